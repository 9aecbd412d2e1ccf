// The kinds of a feature in its family's split lineage, shared by the lineage builder and the
// repository that stores and reads them.
export type SplitKind = "STABLE" | "SPLIT" | "VANISHED" | "LARGEST";
export type OriginKind = "INHERITED" | "NOVEL" | "SMALLEST";
