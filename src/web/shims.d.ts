// react-dom ships no types in this install; the app uses only createRoot.
declare module "react-dom/client" {
  import type { ReactNode } from "react";
  export function createRoot(el: Element): { render(node: ReactNode): void; unmount(): void };
}
declare module "*.css";
