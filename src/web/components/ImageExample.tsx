// One image activation example: the image with its per-patch activations drawn over it as a
// heatmap (each patch shaded by its value relative to the feature's maximum, as vision-SAE
// tools draw it), the value of a patch on hover, the strongest patch outlined.
import { useEffect, useState } from "react";
import { apiKey } from "../api";
import type { Example } from "./Tokens";

export interface ExampleImage {
  url: string;
  width: number;
  height: number;
  patchRows: number;
  patchCols: number;
}

/**
 * The src for an image: the URL itself, or, when the tab holds an API key (a server that wants
 * one for reads answers /images only with it, and an <img> cannot send headers), the bytes
 * fetched with the key as an object URL.
 */
function useImageSrc(url: string): string | undefined {
  const keyed = url.startsWith("/images/") && apiKey() !== null;
  const [src, setSrc] = useState<string | undefined>(keyed ? undefined : url);
  useEffect(() => {
    const key = apiKey();
    if (!url.startsWith("/images/") || key === null) {
      setSrc(url);
      return;
    }
    let gone = false;
    let made: string | null = null;
    void fetch(url, { headers: { authorization: `Bearer ${key}` } })
      .then((r) => (r.ok ? r.blob() : null))
      .then((b) => {
        if (!b || gone) return;
        made = URL.createObjectURL(b);
        setSrc(made);
      })
      .catch(() => {});
    return () => {
      gone = true;
      if (made) URL.revokeObjectURL(made);
    };
  }, [url]);
  return src;
}

/** Displayed width: small images are scaled up (pixelated), large ones down. */
const SHOWN = 224;

export function ImageExample({ ex, image, scale }: { ex: Example; image: ExampleImage; scale: number }) {
  const s = scale > 0 ? scale : 1;
  const src = useImageSrc(image.url);
  const { patchRows: rows, patchCols: cols } = image;
  const max = ex.maxTokenIndex;
  const at = `row ${Math.floor(max / cols) + 1}, column ${(max % cols) + 1}`;
  const alt = `Image example, ${image.width} × ${image.height} pixels, with a heatmap of ${rows} × ${cols} patch activations; the strongest patch is at ${at} (${(ex.values[max] ?? 0).toPrecision(3)})`;
  const shownWidth = Math.min(SHOWN, Math.max(image.width, 160));
  return (
    <figure className="image-example" data-testid="image-example">
      <div className="image-frame" style={{ width: shownWidth, aspectRatio: `${image.width} / ${image.height}` }}>
        <img src={src} alt={alt} width={image.width} height={image.height} loading="lazy" className={image.width < SHOWN ? "pixelated" : undefined} />
        <div className="patches" aria-hidden="true" style={{ gridTemplateColumns: `repeat(${cols}, 1fr)`, gridTemplateRows: `repeat(${rows}, 1fr)` }}>
          {Array.from({ length: rows * cols }, (_, i) => {
            const v = ex.values[i] ?? 0;
            const a = Math.max(0, Math.min(1, v / s));
            return (
              <div
                key={i}
                className={i === max ? "patch max" : "patch"}
                style={{ backgroundColor: a > 0 ? `rgba(255, 120, 0, ${(0.75 * a).toFixed(2)})` : undefined }}
                title={`patch ${Math.floor(i / cols) + 1},${(i % cols) + 1}: ${v.toPrecision(3)}`}
                data-value={v}
              />
            );
          })}
        </div>
      </div>
      <figcaption className="muted">max {ex.maxValue.toPrecision(3)} at {at}</figcaption>
    </figure>
  );
}
