// One image activation example: the image with its per-patch activations drawn over it as a
// heatmap (each patch shaded by its value relative to the feature's maximum, as vision-SAE
// tools draw it), the value of a patch on hover, the strongest patch outlined.
import type { Example } from "./Tokens";

export interface ExampleImage {
  url: string;
  width: number;
  height: number;
  patchRows: number;
  patchCols: number;
}

/** Displayed width: small images are scaled up (pixelated), large ones down. */
const SHOWN = 224;

export function ImageExample({ ex, image, scale }: { ex: Example; image: ExampleImage; scale: number }) {
  const s = scale > 0 ? scale : 1;
  const { patchRows: rows, patchCols: cols } = image;
  const max = ex.maxTokenIndex;
  const at = `row ${Math.floor(max / cols) + 1}, column ${(max % cols) + 1}`;
  const alt = `Image example, ${image.width} × ${image.height} pixels, with a heatmap of ${rows} × ${cols} patch activations; the strongest patch is at ${at} (${(ex.values[max] ?? 0).toPrecision(3)})`;
  const shownWidth = Math.min(SHOWN, Math.max(image.width, 160));
  return (
    <figure className="image-example" data-testid="image-example">
      <div className="image-frame" style={{ width: shownWidth, aspectRatio: `${image.width} / ${image.height}` }}>
        <img src={image.url} alt={alt} width={image.width} height={image.height} loading="lazy" className={image.width < SHOWN ? "pixelated" : undefined} />
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
