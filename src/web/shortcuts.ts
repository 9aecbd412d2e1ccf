// Keyboard shortcuts for the whole app, as in other research dashboards:
//   /      focus the search field of the page (the search page's query, else the concept search box),
//          or open the search page when the page has none
//   j / k  move the focus to the next / previous link of the page's lists (hits, neighbours,
//          lineage, cards, tables); Enter then follows it
//   Esc    leave a text field
// Nothing fires while typing in a field or with Ctrl, Alt or Meta held.
import { useEffect } from "react";
import { navigate } from "./router";

/** Links that j/k walk through: those inside list items and table cells of the page. */
const ITEMS = "main li a[href], main td a[href]";
const SEARCH_FIELDS = ["#q", "#concept-search"];

function typing(t: EventTarget | null): boolean {
  if (!(t instanceof HTMLElement)) return false;
  return t.isContentEditable || t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement;
}

export function handleShortcut(e: KeyboardEvent): void {
  if (e.ctrlKey || e.altKey || e.metaKey) return;
  if (e.key === "Escape" && typing(e.target)) {
    (e.target as HTMLElement).blur();
    return;
  }
  if (typing(e.target)) return;
  if (e.key === "/") {
    e.preventDefault();
    const field = SEARCH_FIELDS.map((s) => document.querySelector<HTMLInputElement>(s)).find((x) => x);
    if (field) {
      field.focus();
      field.select();
    } else {
      navigate("/search?q=");
      focusWhenShown(SEARCH_FIELDS[0]!);
    }
    return;
  }
  if (e.key !== "j" && e.key !== "k") return;
  const links = [...document.querySelectorAll<HTMLAnchorElement>(ITEMS)].filter((a) => a.offsetParent !== null);
  if (!links.length) return;
  e.preventDefault();
  const at = links.indexOf(document.activeElement as HTMLAnchorElement);
  const next = at < 0 ? (e.key === "j" ? 0 : links.length - 1) : Math.max(0, Math.min(links.length - 1, at + (e.key === "j" ? 1 : -1)));
  links[next]!.focus();
  links[next]!.scrollIntoView({ block: "nearest" });
}

/** Focuses the element once the page that holds it has rendered (for about a second at most). */
function focusWhenShown(selector: string, tries = 60): void {
  const el = document.querySelector<HTMLElement>(selector);
  if (el) el.focus();
  else if (tries > 0) requestAnimationFrame(() => focusWhenShown(selector, tries - 1));
}

export function useShortcuts(): void {
  useEffect(() => {
    document.addEventListener("keydown", handleShortcut);
    return () => document.removeEventListener("keydown", handleShortcut);
  }, []);
}
