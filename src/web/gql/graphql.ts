/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
export type ActivationKind =
  | 'QUANTILE'
  | 'TOP';

export type GraphNodeKind =
  /** A prompt token's embedding (E_{tokenId}_{ctxIdx}). */
  | 'EMBEDDING'
  /** A reconstruction error node ({layer}_-1_{ctxIdx}). */
  | 'ERROR'
  /** A transcoder / CLT / SAE feature. */
  | 'FEATURE'
  /** An output token's logit ({nLayers+1}_{tokenId}_{ctxIdx}). */
  | 'LOGIT';

export type JobStatus =
  | 'CANCELLED'
  | 'FAILED'
  | 'QUEUED'
  | 'RUNNING'
  | 'SUCCEEDED';

/** Where a feature comes from in the next smaller SAE. INHERITED: it has a parent above the threshold; NOVEL: none; SMALLEST: the feature is in the smallest SAE. */
export type OriginKind =
  | 'INHERITED'
  | 'NOVEL'
  | 'SMALLEST';

export type SearchMode =
  | 'HYBRID'
  | 'LEXICAL'
  | 'SEMANTIC';

/** How a feature continues into the next larger SAE of its family. STABLE: one child above the split threshold; SPLIT: several; VANISHED: none; LARGEST: the feature is in the largest SAE. */
export type SplitKind =
  | 'LARGEST'
  | 'SPLIT'
  | 'STABLE'
  | 'VANISHED';

export type ExplorerFamiliesQueryVariables = Exact<{ [key: string]: never; }>;


export type ExplorerFamiliesQuery = { families: Array<{ id: string, name: string, model: { id: string, name: string }, saes: Array<{ id: string, dSae: number }>, scaling: Array<{ dSae: number, featureCount: number, stable: number, split: number, vanished: number, inherited: number, novel: number, unclassified: number, medianDensity: number | null, medianDensityNovel: number | null, medianDensityInherited: number | null, sae: { id: string } }> }> };

export type ExplorerForestRootsQueryVariables = Exact<{
  saeId: string | number;
}>;


export type ExplorerForestRootsQuery = { features: { edges: Array<{ node: { index: number, label: string | null, splitKind: SplitKind | null } }> } };

export type ExplorerSubtreeQueryVariables = Exact<{
  saeId: string | number;
  index: number;
}>;


export type ExplorerSubtreeQuery = { splitLineage: { cosine: number | null, coactivation: number | null, split: SplitKind, origin: OriginKind, children: Array<{ cosine: number | null, coactivation: number | null, split: SplitKind, origin: OriginKind, children: Array<{ cosine: number | null, coactivation: number | null, split: SplitKind, origin: OriginKind, feature: { index: number, label: string | null, sae: { id: string, dSae: number } } }>, feature: { index: number, label: string | null, sae: { id: string, dSae: number } } }>, feature: { index: number, label: string | null, sae: { id: string, dSae: number } } } | null };

export type ExplorerFeatureQueryVariables = Exact<{
  saeId: string | number;
  index: number;
}>;


export type ExplorerFeatureQuery = { feature: { id: string, index: number, label: string | null, density: number | null, maxActivation: number | null, sae: { id: string, dSae: number, model: { id: string, saes: Array<{ id: string }> }, family: { id: string } | null }, explanations: Array<{ id: string, text: string, method: string, explainerModel: string | null, quality: number | null, createdAt: string, scores: Array<{ kind: string, metric: string, value: number }> }>, topActivations: Array<{ kind: ActivationKind, tokens: Array<string>, values: Array<number>, maxValue: number, maxTokenIndex: number, binMin: number | null, binMax: number | null, image: { url: string, width: number, height: number, patchRows: number, patchCols: number } | null }>, logits: { positive: Array<{ token: string, value: number }>, negative: Array<{ token: string, value: number }> } | null, histograms: { activationDensity: { values: Array<number>, heights: Array<number> } | null, logits: { values: Array<number>, heights: Array<number> } | null } | null, neuronAlignment: { neuron: number, cosine: number } | null, neighbors: Array<{ cosine: number, feature: { id: string, index: number, label: string | null, sae: { id: string } } }> } | null };

export type ExplorerCrossNeighboursQueryVariables = Exact<{
  saeId: string | number;
  index: number;
  saeIds?: Array<string | number> | string | number | null | undefined;
}>;


export type ExplorerCrossNeighboursQuery = { nearestFeatures: Array<{ cosine: number, feature: { id: string, index: number, label: string | null, sae: { id: string } } }> };

export type ExplorerFeatureListsQueryVariables = Exact<{
  saeId: string | number;
  index: number;
}>;


export type ExplorerFeatureListsQuery = { feature: { id: string, splitKind: SplitKind | null, originKind: OriginKind | null, lists: Array<{ id: string, name: string }> } | null, lists: Array<{ id: string, name: string }> };

export type ExplorerCreateListMutationVariables = Exact<{
  name: string;
}>;


export type ExplorerCreateListMutation = { createList: { id: string, name: string } };

export type ExplorerAddToListMutationVariables = Exact<{
  listId: string | number;
  saeId: string | number;
  index: number;
  note?: string | null | undefined;
}>;


export type ExplorerAddToListMutation = { addToList: { id: string, itemCount: number } };

export type ExplorerAddLabelMutationVariables = Exact<{
  saeId: string | number;
  index: number;
  text: string;
}>;


export type ExplorerAddLabelMutation = { addExplanation: { id: string, text: string, method: string } };

export type ExplorerTestTextQueryVariables = Exact<{
  saeId: string | number;
  index: number;
  text: string;
}>;


export type ExplorerTestTextQuery = { activateText: { tokens: Array<{ token: string }> }, feature: { id: string, activationsOnText: Array<number> } | null };

export type ExplorerFeatureSourcesQueryVariables = Exact<{
  saeId: string | number;
  index: number;
}>;


export type ExplorerFeatureSourcesQuery = { feature: { id: string, sources: Array<{ source: string, examples: number, maxActivation: number }> } | null };

export type ExplorerGraphQueryVariables = Exact<{
  slug: string | number;
  nodeThreshold?: number | null | undefined;
  minEdgeWeight?: number | null | undefined;
}>;


export type ExplorerGraphQuery = { graph: { slug: string, prompt: string, promptTokens: Array<string>, modelId: string, nodeCount: number, linkCount: number, nodes: Array<{ nodeId: string, kind: GraphNodeKind, layer: string, ctxIdx: number, influence: number | null, activation: number | null, tokenProb: number | null, label: string | null, feature: { index: number, sae: { id: string } } | null }>, links: Array<{ source: string, target: string, weight: number }> } | null };

export type ExplorerGraphCircuitQueryVariables = Exact<{
  slug: string | number;
  target: string | number;
}>;


export type ExplorerGraphCircuitQuery = { graphPaths: Array<{ weight: number, nodes: Array<{ nodeId: string, kind: GraphNodeKind, label: string | null, ctxIdx: number }> }>, graphMediators: Array<{ indirectEffect: number, directFromPrompt: number, node: { nodeId: string, label: string | null, feature: { index: number, sae: { id: string } } | null } }> };

export type ExplorerGraphsQueryVariables = Exact<{ [key: string]: never; }>;


export type ExplorerGraphsQuery = { graphs: Array<{ slug: string, prompt: string, modelId: string, nodeCount: number, linkCount: number }> };

export type ExplorerSameModelGraphsQueryVariables = Exact<{
  modelId: string | number;
}>;


export type ExplorerSameModelGraphsQuery = { graphs: Array<{ slug: string, prompt: string }> };

export type ExplorerCompareGraphsQueryVariables = Exact<{
  a: string | number;
  b: string | number;
}>;


export type ExplorerCompareGraphsQuery = { compareGraphs: { sharedCount: number, onlyInACount: number, onlyInBCount: number, shared: Array<{ layer: string, featureIndex: number, positionsA: number, positionsB: number, influenceA: number | null, influenceB: number | null, influenceDelta: number | null, nodeA: { nodeId: string, label: string | null } }>, onlyInA: Array<{ nodeId: string, label: string | null, influence: number | null }>, onlyInB: Array<{ nodeId: string, label: string | null, influence: number | null }> } };

export type ExplorerFeatureGraphsQueryVariables = Exact<{
  saeId: string | number;
  index: number;
}>;


export type ExplorerFeatureGraphsQuery = { feature: { id: string, graphs: Array<{ graph: { slug: string, prompt: string, modelId: string }, node: { nodeId: string, ctxIdx: number, influence: number | null } }> } | null };

export type ExplorerHomeQueryVariables = Exact<{ [key: string]: never; }>;


export type ExplorerHomeQuery = { models: Array<{ id: string, name: string, dModel: number }>, families: Array<{ id: string, name: string, model: { id: string }, saes: Array<{ id: string, dSae: number }> }>, saes: Array<{ id: string, name: string, architecture: string, hookName: string | null, dIn: number, dSae: number, featureCount: number, model: { id: string }, family: { id: string } | null, stats: { deadFraction: number | null, medianDensity: number | null, labeledFraction: number } }> };

export type ExplorerJobsQueryVariables = Exact<{ [key: string]: never; }>;


export type ExplorerJobsQuery = { jobs: Array<{ id: string, kind: string, status: JobStatus, total: number, done: number, failed: number, error: string | null, saeId: string | null, model: string | null, costUsd: number, createdAt: string, finishedAt: string | null }> };

export type LineageFieldsFragment = { cosine: number | null, coactivation: number | null, split: SplitKind, origin: OriginKind, feature: { index: number, label: string | null, sae: { id: string, dSae: number } } };

export type ExplorerLineageQueryVariables = Exact<{
  saeId: string | number;
  index: number;
}>;


export type ExplorerLineageQuery = { splitLineage: { cosine: number | null, coactivation: number | null, split: SplitKind, origin: OriginKind, parents: Array<{ cosine: number | null, coactivation: number | null, split: SplitKind, origin: OriginKind, parents: Array<{ cosine: number | null, coactivation: number | null, split: SplitKind, origin: OriginKind, feature: { index: number, label: string | null, sae: { id: string, dSae: number } } }>, feature: { index: number, label: string | null, sae: { id: string, dSae: number } } }>, children: Array<{ cosine: number | null, coactivation: number | null, split: SplitKind, origin: OriginKind, children: Array<{ cosine: number | null, coactivation: number | null, split: SplitKind, origin: OriginKind, feature: { index: number, label: string | null, sae: { id: string, dSae: number } } }>, feature: { index: number, label: string | null, sae: { id: string, dSae: number } } }>, feature: { index: number, label: string | null, sae: { id: string, dSae: number } } } | null };

export type ExplorerListsQueryVariables = Exact<{ [key: string]: never; }>;


export type ExplorerListsQuery = { lists: Array<{ id: string, name: string, description: string | null, itemCount: number, updatedAt: string }> };

export type ExplorerListQueryVariables = Exact<{
  id: string | number;
}>;


export type ExplorerListQuery = { list: { id: string, name: string, description: string | null, createdAt: string, items: Array<{ note: string | null, addedAt: string, feature: { id: string, index: number, label: string | null, density: number | null, sae: { id: string } } }> } | null };

export type ExplorerRemoveFromListMutationVariables = Exact<{
  listId: string | number;
  saeId: string | number;
  index: number;
}>;


export type ExplorerRemoveFromListMutation = { removeFromList: { id: string } };

export type ExplorerDeleteListMutationVariables = Exact<{
  id: string | number;
}>;


export type ExplorerDeleteListMutation = { deleteList: boolean };

export type ExplorerSaeQueryVariables = Exact<{
  id: string | number;
}>;


export type ExplorerSaeQuery = { sae: { id: string, name: string, architecture: string, hookName: string | null, layer: number | null, dIn: number, dSae: number, featureCount: number, neuronpediaId: string | null, model: { id: string, name: string }, family: { id: string, name: string } | null, stats: { deadFraction: number | null, medianDensity: number | null, neuronAlignedFraction: number | null, labeledFraction: number, densityHistogram: { deadCount: number, unknownCount: number, bins: Array<{ log10Min: number, log10Max: number, count: number }> } | null } } | null };

export type ExplorerMapMatchesQueryVariables = Exact<{
  q: string;
  saeId: string | number;
}>;


export type ExplorerMapMatchesQuery = { searchConcepts: Array<{ feature: { index: number } }> };

export type ExplorerMapKindsQueryVariables = Exact<{
  saeId: string | number;
  after?: string | null | undefined;
}>;


export type ExplorerMapKindsQuery = { features: { edges: Array<{ node: { index: number, splitKind: SplitKind | null, originKind: OriginKind | null } }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type ExplorerSearchQueryVariables = Exact<{
  q: string;
  mode?: SearchMode | null | undefined;
  saeIds?: Array<string | number> | string | number | null | undefined;
}>;


export type ExplorerSearchQuery = { searchConcepts: Array<{ score: number, matchedText: string | null, feature: { id: string, index: number, label: string | null, density: number | null, sae: { id: string } } }> };

export type ExplorerSaeIdsQueryVariables = Exact<{ [key: string]: never; }>;


export type ExplorerSaeIdsQuery = { saes: Array<{ id: string }> };

export type ExplorerSearchByTextQueryVariables = Exact<{
  text: string;
  saeIds: Array<string | number> | string | number;
}>;


export type ExplorerSearchByTextQuery = { searchByText: Array<{ maxActivation: number, tokenIndex: number, feature: { id: string, index: number, label: string | null, density: number | null, sae: { id: string } } }> };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const LineageFieldsFragmentDoc = new TypedDocumentString(`
    fragment LineageFields on LineageNode {
  cosine
  coactivation
  split
  origin
  feature {
    index
    label
    sae {
      id
      dSae
    }
  }
}
    `, {"fragmentName":"LineageFields"}) as unknown as TypedDocumentString<LineageFieldsFragment, unknown>;
export const ExplorerFamiliesDocument = new TypedDocumentString(`
    query ExplorerFamilies {
  families {
    id
    name
    model {
      id
      name
    }
    saes {
      id
      dSae
    }
    scaling {
      dSae
      featureCount
      stable
      split
      vanished
      inherited
      novel
      unclassified
      medianDensity
      medianDensityNovel
      medianDensityInherited
      sae {
        id
      }
    }
  }
}
    `) as unknown as TypedDocumentString<ExplorerFamiliesQuery, ExplorerFamiliesQueryVariables>;
export const ExplorerForestRootsDocument = new TypedDocumentString(`
    query ExplorerForestRoots($saeId: ID!) {
  features(saeId: $saeId, first: 30, orderBy: DENSITY_DESC) {
    edges {
      node {
        index
        label
        splitKind
      }
    }
  }
}
    `) as unknown as TypedDocumentString<ExplorerForestRootsQuery, ExplorerForestRootsQueryVariables>;
export const ExplorerSubtreeDocument = new TypedDocumentString(`
    query ExplorerSubtree($saeId: ID!, $index: Int!) {
  splitLineage(
    saeId: $saeId
    index: $index
    direction: DOWN
    depth: 2
    minCosine: 0.5
  ) {
    ...LineageFields
    children {
      ...LineageFields
      children {
        ...LineageFields
      }
    }
  }
}
    fragment LineageFields on LineageNode {
  cosine
  coactivation
  split
  origin
  feature {
    index
    label
    sae {
      id
      dSae
    }
  }
}`) as unknown as TypedDocumentString<ExplorerSubtreeQuery, ExplorerSubtreeQueryVariables>;
export const ExplorerFeatureDocument = new TypedDocumentString(`
    query ExplorerFeature($saeId: ID!, $index: Int!) {
  feature(saeId: $saeId, index: $index) {
    id
    index
    label
    density
    maxActivation
    sae {
      id
      dSae
      model {
        id
        saes {
          id
        }
      }
      family {
        id
      }
    }
    explanations {
      id
      text
      method
      explainerModel
      quality
      createdAt
      scores {
        kind
        metric
        value
      }
    }
    topActivations(first: 40) {
      kind
      tokens
      values
      maxValue
      maxTokenIndex
      binMin
      binMax
      image {
        url
        width
        height
        patchRows
        patchCols
      }
    }
    logits {
      positive {
        token
        value
      }
      negative {
        token
        value
      }
    }
    histograms {
      activationDensity {
        values
        heights
      }
      logits {
        values
        heights
      }
    }
    neuronAlignment {
      neuron
      cosine
    }
    neighbors(k: 10) {
      cosine
      feature {
        id
        index
        label
        sae {
          id
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<ExplorerFeatureQuery, ExplorerFeatureQueryVariables>;
export const ExplorerCrossNeighboursDocument = new TypedDocumentString(`
    query ExplorerCrossNeighbours($saeId: ID!, $index: Int!, $saeIds: [ID!]) {
  nearestFeatures(saeId: $saeId, index: $index, k: 10, saeIds: $saeIds) {
    cosine
    feature {
      id
      index
      label
      sae {
        id
      }
    }
  }
}
    `) as unknown as TypedDocumentString<ExplorerCrossNeighboursQuery, ExplorerCrossNeighboursQueryVariables>;
export const ExplorerFeatureListsDocument = new TypedDocumentString(`
    query ExplorerFeatureLists($saeId: ID!, $index: Int!) {
  feature(saeId: $saeId, index: $index) {
    id
    splitKind
    originKind
    lists {
      id
      name
    }
  }
  lists {
    id
    name
  }
}
    `) as unknown as TypedDocumentString<ExplorerFeatureListsQuery, ExplorerFeatureListsQueryVariables>;
export const ExplorerCreateListDocument = new TypedDocumentString(`
    mutation ExplorerCreateList($name: String!) {
  createList(name: $name) {
    id
    name
  }
}
    `) as unknown as TypedDocumentString<ExplorerCreateListMutation, ExplorerCreateListMutationVariables>;
export const ExplorerAddToListDocument = new TypedDocumentString(`
    mutation ExplorerAddToList($listId: ID!, $saeId: ID!, $index: Int!, $note: String) {
  addToList(listId: $listId, saeId: $saeId, index: $index, note: $note) {
    id
    itemCount
  }
}
    `) as unknown as TypedDocumentString<ExplorerAddToListMutation, ExplorerAddToListMutationVariables>;
export const ExplorerAddLabelDocument = new TypedDocumentString(`
    mutation ExplorerAddLabel($saeId: ID!, $index: Int!, $text: String!) {
  addExplanation(saeId: $saeId, index: $index, text: $text) {
    id
    text
    method
  }
}
    `) as unknown as TypedDocumentString<ExplorerAddLabelMutation, ExplorerAddLabelMutationVariables>;
export const ExplorerTestTextDocument = new TypedDocumentString(`
    query ExplorerTestText($saeId: ID!, $index: Int!, $text: String!) {
  activateText(saeId: $saeId, text: $text, k: 1) {
    tokens {
      token
    }
  }
  feature(saeId: $saeId, index: $index) {
    id
    activationsOnText(text: $text)
  }
}
    `) as unknown as TypedDocumentString<ExplorerTestTextQuery, ExplorerTestTextQueryVariables>;
export const ExplorerFeatureSourcesDocument = new TypedDocumentString(`
    query ExplorerFeatureSources($saeId: ID!, $index: Int!) {
  feature(saeId: $saeId, index: $index) {
    id
    sources {
      source
      examples
      maxActivation
    }
  }
}
    `) as unknown as TypedDocumentString<ExplorerFeatureSourcesQuery, ExplorerFeatureSourcesQueryVariables>;
export const ExplorerGraphDocument = new TypedDocumentString(`
    query ExplorerGraph($slug: ID!, $nodeThreshold: Float, $minEdgeWeight: Float) {
  graph(slug: $slug, nodeThreshold: $nodeThreshold, minEdgeWeight: $minEdgeWeight) {
    slug
    prompt
    promptTokens
    modelId
    nodeCount
    linkCount
    nodes {
      nodeId
      kind
      layer
      ctxIdx
      influence
      activation
      tokenProb
      label
      feature {
        index
        sae {
          id
        }
      }
    }
    links {
      source
      target
      weight
    }
  }
}
    `) as unknown as TypedDocumentString<ExplorerGraphQuery, ExplorerGraphQueryVariables>;
export const ExplorerGraphCircuitDocument = new TypedDocumentString(`
    query ExplorerGraphCircuit($slug: ID!, $target: ID!) {
  graphPaths(slug: $slug, to: $target, k: 5) {
    weight
    nodes {
      nodeId
      kind
      label
      ctxIdx
    }
  }
  graphMediators(slug: $slug, target: $target, k: 5) {
    indirectEffect
    directFromPrompt
    node {
      nodeId
      label
      feature {
        index
        sae {
          id
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<ExplorerGraphCircuitQuery, ExplorerGraphCircuitQueryVariables>;
export const ExplorerGraphsDocument = new TypedDocumentString(`
    query ExplorerGraphs {
  graphs(first: 50) {
    slug
    prompt
    modelId
    nodeCount
    linkCount
  }
}
    `) as unknown as TypedDocumentString<ExplorerGraphsQuery, ExplorerGraphsQueryVariables>;
export const ExplorerSameModelGraphsDocument = new TypedDocumentString(`
    query ExplorerSameModelGraphs($modelId: ID!) {
  graphs(modelId: $modelId, first: 200) {
    slug
    prompt
  }
}
    `) as unknown as TypedDocumentString<ExplorerSameModelGraphsQuery, ExplorerSameModelGraphsQueryVariables>;
export const ExplorerCompareGraphsDocument = new TypedDocumentString(`
    query ExplorerCompareGraphs($a: ID!, $b: ID!) {
  compareGraphs(a: $a, b: $b) {
    sharedCount
    onlyInACount
    onlyInBCount
    shared(first: 20, orderBy: DIFFERENCE) {
      layer
      featureIndex
      positionsA
      positionsB
      influenceA
      influenceB
      influenceDelta
      nodeA {
        nodeId
        label
      }
    }
    onlyInA(first: 10) {
      nodeId
      label
      influence
    }
    onlyInB(first: 10) {
      nodeId
      label
      influence
    }
  }
}
    `) as unknown as TypedDocumentString<ExplorerCompareGraphsQuery, ExplorerCompareGraphsQueryVariables>;
export const ExplorerFeatureGraphsDocument = new TypedDocumentString(`
    query ExplorerFeatureGraphs($saeId: ID!, $index: Int!) {
  feature(saeId: $saeId, index: $index) {
    id
    graphs(first: 20) {
      graph {
        slug
        prompt
        modelId
      }
      node {
        nodeId
        ctxIdx
        influence
      }
    }
  }
}
    `) as unknown as TypedDocumentString<ExplorerFeatureGraphsQuery, ExplorerFeatureGraphsQueryVariables>;
export const ExplorerHomeDocument = new TypedDocumentString(`
    query ExplorerHome {
  models {
    id
    name
    dModel
  }
  families {
    id
    name
    model {
      id
    }
    saes {
      id
      dSae
    }
  }
  saes {
    id
    name
    architecture
    hookName
    dIn
    dSae
    featureCount
    model {
      id
    }
    family {
      id
    }
    stats {
      deadFraction
      medianDensity
      labeledFraction
    }
  }
}
    `) as unknown as TypedDocumentString<ExplorerHomeQuery, ExplorerHomeQueryVariables>;
export const ExplorerJobsDocument = new TypedDocumentString(`
    query ExplorerJobs {
  jobs(first: 50) {
    id
    kind
    status
    total
    done
    failed
    error
    saeId
    model
    costUsd
    createdAt
    finishedAt
  }
}
    `) as unknown as TypedDocumentString<ExplorerJobsQuery, ExplorerJobsQueryVariables>;
export const ExplorerLineageDocument = new TypedDocumentString(`
    query ExplorerLineage($saeId: ID!, $index: Int!) {
  splitLineage(saeId: $saeId, index: $index, direction: BOTH, depth: 2) {
    ...LineageFields
    parents {
      ...LineageFields
      parents {
        ...LineageFields
      }
    }
    children {
      ...LineageFields
      children {
        ...LineageFields
      }
    }
  }
}
    fragment LineageFields on LineageNode {
  cosine
  coactivation
  split
  origin
  feature {
    index
    label
    sae {
      id
      dSae
    }
  }
}`) as unknown as TypedDocumentString<ExplorerLineageQuery, ExplorerLineageQueryVariables>;
export const ExplorerListsDocument = new TypedDocumentString(`
    query ExplorerLists {
  lists {
    id
    name
    description
    itemCount
    updatedAt
  }
}
    `) as unknown as TypedDocumentString<ExplorerListsQuery, ExplorerListsQueryVariables>;
export const ExplorerListDocument = new TypedDocumentString(`
    query ExplorerList($id: ID!) {
  list(id: $id) {
    id
    name
    description
    createdAt
    items {
      note
      addedAt
      feature {
        id
        index
        label
        density
        sae {
          id
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<ExplorerListQuery, ExplorerListQueryVariables>;
export const ExplorerRemoveFromListDocument = new TypedDocumentString(`
    mutation ExplorerRemoveFromList($listId: ID!, $saeId: ID!, $index: Int!) {
  removeFromList(listId: $listId, saeId: $saeId, index: $index) {
    id
  }
}
    `) as unknown as TypedDocumentString<ExplorerRemoveFromListMutation, ExplorerRemoveFromListMutationVariables>;
export const ExplorerDeleteListDocument = new TypedDocumentString(`
    mutation ExplorerDeleteList($id: ID!) {
  deleteList(id: $id)
}
    `) as unknown as TypedDocumentString<ExplorerDeleteListMutation, ExplorerDeleteListMutationVariables>;
export const ExplorerSaeDocument = new TypedDocumentString(`
    query ExplorerSae($id: ID!) {
  sae(id: $id) {
    id
    name
    architecture
    hookName
    layer
    dIn
    dSae
    featureCount
    neuronpediaId
    model {
      id
      name
    }
    family {
      id
      name
    }
    stats {
      deadFraction
      medianDensity
      neuronAlignedFraction
      labeledFraction
      densityHistogram(bins: 40) {
        deadCount
        unknownCount
        bins {
          log10Min
          log10Max
          count
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<ExplorerSaeQuery, ExplorerSaeQueryVariables>;
export const ExplorerMapMatchesDocument = new TypedDocumentString(`
    query ExplorerMapMatches($q: String!, $saeId: ID!) {
  searchConcepts(query: $q, saeIds: [$saeId], k: 50, mode: HYBRID) {
    feature {
      index
    }
  }
}
    `) as unknown as TypedDocumentString<ExplorerMapMatchesQuery, ExplorerMapMatchesQueryVariables>;
export const ExplorerMapKindsDocument = new TypedDocumentString(`
    query ExplorerMapKinds($saeId: ID!, $after: String) {
  features(saeId: $saeId, first: 1000, after: $after) {
    edges {
      node {
        index
        splitKind
        originKind
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
    `) as unknown as TypedDocumentString<ExplorerMapKindsQuery, ExplorerMapKindsQueryVariables>;
export const ExplorerSearchDocument = new TypedDocumentString(`
    query ExplorerSearch($q: String!, $mode: SearchMode, $saeIds: [ID!]) {
  searchConcepts(query: $q, k: 30, mode: $mode, saeIds: $saeIds) {
    score
    matchedText
    feature {
      id
      index
      label
      density
      sae {
        id
      }
    }
  }
}
    `) as unknown as TypedDocumentString<ExplorerSearchQuery, ExplorerSearchQueryVariables>;
export const ExplorerSaeIdsDocument = new TypedDocumentString(`
    query ExplorerSaeIds {
  saes {
    id
  }
}
    `) as unknown as TypedDocumentString<ExplorerSaeIdsQuery, ExplorerSaeIdsQueryVariables>;
export const ExplorerSearchByTextDocument = new TypedDocumentString(`
    query ExplorerSearchByText($text: String!, $saeIds: [ID!]!) {
  searchByText(text: $text, saeIds: $saeIds, k: 30) {
    maxActivation
    tokenIndex
    feature {
      id
      index
      label
      density
      sae {
        id
      }
    }
  }
}
    `) as unknown as TypedDocumentString<ExplorerSearchByTextQuery, ExplorerSearchByTextQueryVariables>;