/* eslint-disable */
import * as types from './graphql';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query ExplorerFamilies {\n    families { id name model { id name } saes { id dSae }\n      scaling { dSae featureCount stable split vanished inherited novel unclassified medianDensity medianDensityNovel medianDensityInherited sae { id } }\n    }\n  }\n": typeof types.ExplorerFamiliesDocument,
    "\n  query ExplorerForestRoots($saeId: ID!) {\n    features(saeId: $saeId, first: 30, orderBy: DENSITY_DESC) { edges { node { index label splitKind } } }\n  }\n": typeof types.ExplorerForestRootsDocument,
    "\n  query ExplorerSubtree($saeId: ID!, $index: Int!) {\n    splitLineage(saeId: $saeId, index: $index, direction: DOWN, depth: 2, minCosine: 0.5) {\n      ...LineageFields\n      children { ...LineageFields children { ...LineageFields } }\n    }\n  }\n": typeof types.ExplorerSubtreeDocument,
    "\n  query ExplorerFeature($saeId: ID!, $index: Int!) {\n    feature(saeId: $saeId, index: $index) {\n      id index label density maxActivation\n      sae { id dSae model { id saes { id } } family { id } }\n      explanations { id text method explainerModel quality createdAt scores { kind metric value } }\n      topActivations(first: 40) { kind tokens values maxValue maxTokenIndex binMin binMax image { url width height patchRows patchCols } }\n      logits { positive { token value } negative { token value } }\n      histograms { activationDensity { values heights } logits { values heights } }\n      neuronAlignment { neuron cosine }\n      neighbors(k: 10) { cosine feature { id index label sae { id } } }\n    }\n  }\n": typeof types.ExplorerFeatureDocument,
    "\n  query ExplorerCrossNeighbours($saeId: ID!, $index: Int!, $saeIds: [ID!]) {\n    nearestFeatures(saeId: $saeId, index: $index, k: 10, saeIds: $saeIds) { cosine feature { id index label sae { id } } }\n  }\n": typeof types.ExplorerCrossNeighboursDocument,
    "\n  query ExplorerFeatureLists($saeId: ID!, $index: Int!) {\n    feature(saeId: $saeId, index: $index) { id splitKind originKind lists { id name } }\n    lists { id name }\n  }\n": typeof types.ExplorerFeatureListsDocument,
    "\n  mutation ExplorerCreateList($name: String!) { createList(name: $name) { id name } }\n": typeof types.ExplorerCreateListDocument,
    "\n  mutation ExplorerAddToList($listId: ID!, $saeId: ID!, $index: Int!, $note: String) { addToList(listId: $listId, saeId: $saeId, index: $index, note: $note) { id itemCount } }\n": typeof types.ExplorerAddToListDocument,
    "\n  mutation ExplorerAddLabel($saeId: ID!, $index: Int!, $text: String!) { addExplanation(saeId: $saeId, index: $index, text: $text) { id text method } }\n": typeof types.ExplorerAddLabelDocument,
    "\n  query ExplorerTestText($saeId: ID!, $index: Int!, $text: String!) {\n    activateText(saeId: $saeId, text: $text, k: 1) { tokens { token } }\n    feature(saeId: $saeId, index: $index) { id activationsOnText(text: $text) }\n  }\n": typeof types.ExplorerTestTextDocument,
    "\n  query ExplorerFeatureSources($saeId: ID!, $index: Int!) {\n    feature(saeId: $saeId, index: $index) { id sources { source examples maxActivation } }\n  }\n": typeof types.ExplorerFeatureSourcesDocument,
    "\n  query ExplorerGraph($slug: ID!, $nodeThreshold: Float, $minEdgeWeight: Float) {\n    graph(slug: $slug, nodeThreshold: $nodeThreshold, minEdgeWeight: $minEdgeWeight) {\n      slug prompt promptTokens modelId nodeCount linkCount\n      nodes { nodeId kind layer ctxIdx influence activation tokenProb label feature { index sae { id } } }\n      links { source target weight }\n    }\n  }\n": typeof types.ExplorerGraphDocument,
    "\n  query ExplorerGraphCircuit($slug: ID!, $target: ID!) {\n    graphPaths(slug: $slug, to: $target, k: 5) { weight nodes { nodeId kind label ctxIdx } }\n    graphMediators(slug: $slug, target: $target, k: 5) { indirectEffect directFromPrompt node { nodeId label feature { index sae { id } } } }\n  }\n": typeof types.ExplorerGraphCircuitDocument,
    "\n  query ExplorerGraphs { graphs(first: 50) { slug prompt modelId nodeCount linkCount } }\n": typeof types.ExplorerGraphsDocument,
    "\n  query ExplorerSameModelGraphs($modelId: ID!) { graphs(modelId: $modelId, first: 200) { slug prompt } }\n": typeof types.ExplorerSameModelGraphsDocument,
    "\n  query ExplorerCompareGraphs($a: ID!, $b: ID!) {\n    compareGraphs(a: $a, b: $b) {\n      sharedCount onlyInACount onlyInBCount\n      shared(first: 20, orderBy: DIFFERENCE) { layer featureIndex positionsA positionsB influenceA influenceB influenceDelta nodeA { nodeId label } }\n      onlyInA(first: 10) { nodeId label influence }\n      onlyInB(first: 10) { nodeId label influence }\n    }\n  }\n": typeof types.ExplorerCompareGraphsDocument,
    "\n  query ExplorerFeatureGraphs($saeId: ID!, $index: Int!) {\n    feature(saeId: $saeId, index: $index) { id graphs(first: 20) { graph { slug prompt modelId } node { nodeId ctxIdx influence } } }\n  }\n": typeof types.ExplorerFeatureGraphsDocument,
    "\n  query ExplorerHome {\n    models { id name dModel }\n    families { id name model { id } saes { id dSae } }\n    saes {\n      id name architecture hookName dIn dSae featureCount\n      model { id }\n      family { id }\n      stats { deadFraction medianDensity labeledFraction }\n    }\n  }\n": typeof types.ExplorerHomeDocument,
    "\n  query ExplorerJobs { jobs(first: 50) { id kind status total done failed error saeId model costUsd createdAt finishedAt } }\n": typeof types.ExplorerJobsDocument,
    "\n  fragment LineageFields on LineageNode {\n    cosine coactivation split origin\n    feature { index label sae { id dSae } }\n  }\n": typeof types.LineageFieldsFragmentDoc,
    "\n  query ExplorerLineage($saeId: ID!, $index: Int!) {\n    splitLineage(saeId: $saeId, index: $index, direction: BOTH, depth: 2) {\n      ...LineageFields\n      parents { ...LineageFields parents { ...LineageFields } }\n      children { ...LineageFields children { ...LineageFields } }\n    }\n  }\n": typeof types.ExplorerLineageDocument,
    "query ExplorerLists { lists { id name description itemCount updatedAt } }": typeof types.ExplorerListsDocument,
    "\n  query ExplorerList($id: ID!) {\n    list(id: $id) { id name description createdAt items { note addedAt feature { id index label density sae { id } } } }\n  }\n": typeof types.ExplorerListDocument,
    "mutation ExplorerRemoveFromList($listId: ID!, $saeId: ID!, $index: Int!) { removeFromList(listId: $listId, saeId: $saeId, index: $index) { id } }": typeof types.ExplorerRemoveFromListDocument,
    "mutation ExplorerDeleteList($id: ID!) { deleteList(id: $id) }": typeof types.ExplorerDeleteListDocument,
    "\n  query ExplorerSae($id: ID!) {\n    sae(id: $id) {\n      id name architecture hookName layer dIn dSae featureCount neuronpediaId\n      model { id name }\n      family { id name }\n      stats { deadFraction medianDensity neuronAlignedFraction labeledFraction densityHistogram(bins: 40) { deadCount unknownCount bins { log10Min log10Max count } } }\n    }\n  }\n": typeof types.ExplorerSaeDocument,
    "\n  query ExplorerMapMatches($q: String!, $saeId: ID!) {\n    searchConcepts(query: $q, saeIds: [$saeId], k: 50, mode: HYBRID) { feature { index } }\n  }\n": typeof types.ExplorerMapMatchesDocument,
    "\n  query ExplorerMapKinds($saeId: ID!, $after: String) {\n    features(saeId: $saeId, first: 1000, after: $after) { edges { node { index splitKind originKind } } pageInfo { hasNextPage endCursor } }\n  }\n": typeof types.ExplorerMapKindsDocument,
    "\n  query ExplorerSearch($q: String!, $mode: SearchMode, $saeIds: [ID!]) {\n    searchConcepts(query: $q, k: 30, mode: $mode, saeIds: $saeIds) {\n      score matchedText\n      feature { id index label density sae { id } }\n    }\n  }\n": typeof types.ExplorerSearchDocument,
    "query ExplorerSaeIds { saes { id } }": typeof types.ExplorerSaeIdsDocument,
    "\n  query ExplorerSearchByText($text: String!, $saeIds: [ID!]!) {\n    searchByText(text: $text, saeIds: $saeIds, k: 30) {\n      maxActivation tokenIndex\n      feature { id index label density sae { id } }\n    }\n  }\n": typeof types.ExplorerSearchByTextDocument,
};
const documents: Documents = {
    "\n  query ExplorerFamilies {\n    families { id name model { id name } saes { id dSae }\n      scaling { dSae featureCount stable split vanished inherited novel unclassified medianDensity medianDensityNovel medianDensityInherited sae { id } }\n    }\n  }\n": types.ExplorerFamiliesDocument,
    "\n  query ExplorerForestRoots($saeId: ID!) {\n    features(saeId: $saeId, first: 30, orderBy: DENSITY_DESC) { edges { node { index label splitKind } } }\n  }\n": types.ExplorerForestRootsDocument,
    "\n  query ExplorerSubtree($saeId: ID!, $index: Int!) {\n    splitLineage(saeId: $saeId, index: $index, direction: DOWN, depth: 2, minCosine: 0.5) {\n      ...LineageFields\n      children { ...LineageFields children { ...LineageFields } }\n    }\n  }\n": types.ExplorerSubtreeDocument,
    "\n  query ExplorerFeature($saeId: ID!, $index: Int!) {\n    feature(saeId: $saeId, index: $index) {\n      id index label density maxActivation\n      sae { id dSae model { id saes { id } } family { id } }\n      explanations { id text method explainerModel quality createdAt scores { kind metric value } }\n      topActivations(first: 40) { kind tokens values maxValue maxTokenIndex binMin binMax image { url width height patchRows patchCols } }\n      logits { positive { token value } negative { token value } }\n      histograms { activationDensity { values heights } logits { values heights } }\n      neuronAlignment { neuron cosine }\n      neighbors(k: 10) { cosine feature { id index label sae { id } } }\n    }\n  }\n": types.ExplorerFeatureDocument,
    "\n  query ExplorerCrossNeighbours($saeId: ID!, $index: Int!, $saeIds: [ID!]) {\n    nearestFeatures(saeId: $saeId, index: $index, k: 10, saeIds: $saeIds) { cosine feature { id index label sae { id } } }\n  }\n": types.ExplorerCrossNeighboursDocument,
    "\n  query ExplorerFeatureLists($saeId: ID!, $index: Int!) {\n    feature(saeId: $saeId, index: $index) { id splitKind originKind lists { id name } }\n    lists { id name }\n  }\n": types.ExplorerFeatureListsDocument,
    "\n  mutation ExplorerCreateList($name: String!) { createList(name: $name) { id name } }\n": types.ExplorerCreateListDocument,
    "\n  mutation ExplorerAddToList($listId: ID!, $saeId: ID!, $index: Int!, $note: String) { addToList(listId: $listId, saeId: $saeId, index: $index, note: $note) { id itemCount } }\n": types.ExplorerAddToListDocument,
    "\n  mutation ExplorerAddLabel($saeId: ID!, $index: Int!, $text: String!) { addExplanation(saeId: $saeId, index: $index, text: $text) { id text method } }\n": types.ExplorerAddLabelDocument,
    "\n  query ExplorerTestText($saeId: ID!, $index: Int!, $text: String!) {\n    activateText(saeId: $saeId, text: $text, k: 1) { tokens { token } }\n    feature(saeId: $saeId, index: $index) { id activationsOnText(text: $text) }\n  }\n": types.ExplorerTestTextDocument,
    "\n  query ExplorerFeatureSources($saeId: ID!, $index: Int!) {\n    feature(saeId: $saeId, index: $index) { id sources { source examples maxActivation } }\n  }\n": types.ExplorerFeatureSourcesDocument,
    "\n  query ExplorerGraph($slug: ID!, $nodeThreshold: Float, $minEdgeWeight: Float) {\n    graph(slug: $slug, nodeThreshold: $nodeThreshold, minEdgeWeight: $minEdgeWeight) {\n      slug prompt promptTokens modelId nodeCount linkCount\n      nodes { nodeId kind layer ctxIdx influence activation tokenProb label feature { index sae { id } } }\n      links { source target weight }\n    }\n  }\n": types.ExplorerGraphDocument,
    "\n  query ExplorerGraphCircuit($slug: ID!, $target: ID!) {\n    graphPaths(slug: $slug, to: $target, k: 5) { weight nodes { nodeId kind label ctxIdx } }\n    graphMediators(slug: $slug, target: $target, k: 5) { indirectEffect directFromPrompt node { nodeId label feature { index sae { id } } } }\n  }\n": types.ExplorerGraphCircuitDocument,
    "\n  query ExplorerGraphs { graphs(first: 50) { slug prompt modelId nodeCount linkCount } }\n": types.ExplorerGraphsDocument,
    "\n  query ExplorerSameModelGraphs($modelId: ID!) { graphs(modelId: $modelId, first: 200) { slug prompt } }\n": types.ExplorerSameModelGraphsDocument,
    "\n  query ExplorerCompareGraphs($a: ID!, $b: ID!) {\n    compareGraphs(a: $a, b: $b) {\n      sharedCount onlyInACount onlyInBCount\n      shared(first: 20, orderBy: DIFFERENCE) { layer featureIndex positionsA positionsB influenceA influenceB influenceDelta nodeA { nodeId label } }\n      onlyInA(first: 10) { nodeId label influence }\n      onlyInB(first: 10) { nodeId label influence }\n    }\n  }\n": types.ExplorerCompareGraphsDocument,
    "\n  query ExplorerFeatureGraphs($saeId: ID!, $index: Int!) {\n    feature(saeId: $saeId, index: $index) { id graphs(first: 20) { graph { slug prompt modelId } node { nodeId ctxIdx influence } } }\n  }\n": types.ExplorerFeatureGraphsDocument,
    "\n  query ExplorerHome {\n    models { id name dModel }\n    families { id name model { id } saes { id dSae } }\n    saes {\n      id name architecture hookName dIn dSae featureCount\n      model { id }\n      family { id }\n      stats { deadFraction medianDensity labeledFraction }\n    }\n  }\n": types.ExplorerHomeDocument,
    "\n  query ExplorerJobs { jobs(first: 50) { id kind status total done failed error saeId model costUsd createdAt finishedAt } }\n": types.ExplorerJobsDocument,
    "\n  fragment LineageFields on LineageNode {\n    cosine coactivation split origin\n    feature { index label sae { id dSae } }\n  }\n": types.LineageFieldsFragmentDoc,
    "\n  query ExplorerLineage($saeId: ID!, $index: Int!) {\n    splitLineage(saeId: $saeId, index: $index, direction: BOTH, depth: 2) {\n      ...LineageFields\n      parents { ...LineageFields parents { ...LineageFields } }\n      children { ...LineageFields children { ...LineageFields } }\n    }\n  }\n": types.ExplorerLineageDocument,
    "query ExplorerLists { lists { id name description itemCount updatedAt } }": types.ExplorerListsDocument,
    "\n  query ExplorerList($id: ID!) {\n    list(id: $id) { id name description createdAt items { note addedAt feature { id index label density sae { id } } } }\n  }\n": types.ExplorerListDocument,
    "mutation ExplorerRemoveFromList($listId: ID!, $saeId: ID!, $index: Int!) { removeFromList(listId: $listId, saeId: $saeId, index: $index) { id } }": types.ExplorerRemoveFromListDocument,
    "mutation ExplorerDeleteList($id: ID!) { deleteList(id: $id) }": types.ExplorerDeleteListDocument,
    "\n  query ExplorerSae($id: ID!) {\n    sae(id: $id) {\n      id name architecture hookName layer dIn dSae featureCount neuronpediaId\n      model { id name }\n      family { id name }\n      stats { deadFraction medianDensity neuronAlignedFraction labeledFraction densityHistogram(bins: 40) { deadCount unknownCount bins { log10Min log10Max count } } }\n    }\n  }\n": types.ExplorerSaeDocument,
    "\n  query ExplorerMapMatches($q: String!, $saeId: ID!) {\n    searchConcepts(query: $q, saeIds: [$saeId], k: 50, mode: HYBRID) { feature { index } }\n  }\n": types.ExplorerMapMatchesDocument,
    "\n  query ExplorerMapKinds($saeId: ID!, $after: String) {\n    features(saeId: $saeId, first: 1000, after: $after) { edges { node { index splitKind originKind } } pageInfo { hasNextPage endCursor } }\n  }\n": types.ExplorerMapKindsDocument,
    "\n  query ExplorerSearch($q: String!, $mode: SearchMode, $saeIds: [ID!]) {\n    searchConcepts(query: $q, k: 30, mode: $mode, saeIds: $saeIds) {\n      score matchedText\n      feature { id index label density sae { id } }\n    }\n  }\n": types.ExplorerSearchDocument,
    "query ExplorerSaeIds { saes { id } }": types.ExplorerSaeIdsDocument,
    "\n  query ExplorerSearchByText($text: String!, $saeIds: [ID!]!) {\n    searchByText(text: $text, saeIds: $saeIds, k: 30) {\n      maxActivation tokenIndex\n      feature { id index label density sae { id } }\n    }\n  }\n": types.ExplorerSearchByTextDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ExplorerFamilies {\n    families { id name model { id name } saes { id dSae }\n      scaling { dSae featureCount stable split vanished inherited novel unclassified medianDensity medianDensityNovel medianDensityInherited sae { id } }\n    }\n  }\n"): typeof import('./graphql').ExplorerFamiliesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ExplorerForestRoots($saeId: ID!) {\n    features(saeId: $saeId, first: 30, orderBy: DENSITY_DESC) { edges { node { index label splitKind } } }\n  }\n"): typeof import('./graphql').ExplorerForestRootsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ExplorerSubtree($saeId: ID!, $index: Int!) {\n    splitLineage(saeId: $saeId, index: $index, direction: DOWN, depth: 2, minCosine: 0.5) {\n      ...LineageFields\n      children { ...LineageFields children { ...LineageFields } }\n    }\n  }\n"): typeof import('./graphql').ExplorerSubtreeDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ExplorerFeature($saeId: ID!, $index: Int!) {\n    feature(saeId: $saeId, index: $index) {\n      id index label density maxActivation\n      sae { id dSae model { id saes { id } } family { id } }\n      explanations { id text method explainerModel quality createdAt scores { kind metric value } }\n      topActivations(first: 40) { kind tokens values maxValue maxTokenIndex binMin binMax image { url width height patchRows patchCols } }\n      logits { positive { token value } negative { token value } }\n      histograms { activationDensity { values heights } logits { values heights } }\n      neuronAlignment { neuron cosine }\n      neighbors(k: 10) { cosine feature { id index label sae { id } } }\n    }\n  }\n"): typeof import('./graphql').ExplorerFeatureDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ExplorerCrossNeighbours($saeId: ID!, $index: Int!, $saeIds: [ID!]) {\n    nearestFeatures(saeId: $saeId, index: $index, k: 10, saeIds: $saeIds) { cosine feature { id index label sae { id } } }\n  }\n"): typeof import('./graphql').ExplorerCrossNeighboursDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ExplorerFeatureLists($saeId: ID!, $index: Int!) {\n    feature(saeId: $saeId, index: $index) { id splitKind originKind lists { id name } }\n    lists { id name }\n  }\n"): typeof import('./graphql').ExplorerFeatureListsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ExplorerCreateList($name: String!) { createList(name: $name) { id name } }\n"): typeof import('./graphql').ExplorerCreateListDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ExplorerAddToList($listId: ID!, $saeId: ID!, $index: Int!, $note: String) { addToList(listId: $listId, saeId: $saeId, index: $index, note: $note) { id itemCount } }\n"): typeof import('./graphql').ExplorerAddToListDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ExplorerAddLabel($saeId: ID!, $index: Int!, $text: String!) { addExplanation(saeId: $saeId, index: $index, text: $text) { id text method } }\n"): typeof import('./graphql').ExplorerAddLabelDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ExplorerTestText($saeId: ID!, $index: Int!, $text: String!) {\n    activateText(saeId: $saeId, text: $text, k: 1) { tokens { token } }\n    feature(saeId: $saeId, index: $index) { id activationsOnText(text: $text) }\n  }\n"): typeof import('./graphql').ExplorerTestTextDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ExplorerFeatureSources($saeId: ID!, $index: Int!) {\n    feature(saeId: $saeId, index: $index) { id sources { source examples maxActivation } }\n  }\n"): typeof import('./graphql').ExplorerFeatureSourcesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ExplorerGraph($slug: ID!, $nodeThreshold: Float, $minEdgeWeight: Float) {\n    graph(slug: $slug, nodeThreshold: $nodeThreshold, minEdgeWeight: $minEdgeWeight) {\n      slug prompt promptTokens modelId nodeCount linkCount\n      nodes { nodeId kind layer ctxIdx influence activation tokenProb label feature { index sae { id } } }\n      links { source target weight }\n    }\n  }\n"): typeof import('./graphql').ExplorerGraphDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ExplorerGraphCircuit($slug: ID!, $target: ID!) {\n    graphPaths(slug: $slug, to: $target, k: 5) { weight nodes { nodeId kind label ctxIdx } }\n    graphMediators(slug: $slug, target: $target, k: 5) { indirectEffect directFromPrompt node { nodeId label feature { index sae { id } } } }\n  }\n"): typeof import('./graphql').ExplorerGraphCircuitDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ExplorerGraphs { graphs(first: 50) { slug prompt modelId nodeCount linkCount } }\n"): typeof import('./graphql').ExplorerGraphsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ExplorerSameModelGraphs($modelId: ID!) { graphs(modelId: $modelId, first: 200) { slug prompt } }\n"): typeof import('./graphql').ExplorerSameModelGraphsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ExplorerCompareGraphs($a: ID!, $b: ID!) {\n    compareGraphs(a: $a, b: $b) {\n      sharedCount onlyInACount onlyInBCount\n      shared(first: 20, orderBy: DIFFERENCE) { layer featureIndex positionsA positionsB influenceA influenceB influenceDelta nodeA { nodeId label } }\n      onlyInA(first: 10) { nodeId label influence }\n      onlyInB(first: 10) { nodeId label influence }\n    }\n  }\n"): typeof import('./graphql').ExplorerCompareGraphsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ExplorerFeatureGraphs($saeId: ID!, $index: Int!) {\n    feature(saeId: $saeId, index: $index) { id graphs(first: 20) { graph { slug prompt modelId } node { nodeId ctxIdx influence } } }\n  }\n"): typeof import('./graphql').ExplorerFeatureGraphsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ExplorerHome {\n    models { id name dModel }\n    families { id name model { id } saes { id dSae } }\n    saes {\n      id name architecture hookName dIn dSae featureCount\n      model { id }\n      family { id }\n      stats { deadFraction medianDensity labeledFraction }\n    }\n  }\n"): typeof import('./graphql').ExplorerHomeDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ExplorerJobs { jobs(first: 50) { id kind status total done failed error saeId model costUsd createdAt finishedAt } }\n"): typeof import('./graphql').ExplorerJobsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment LineageFields on LineageNode {\n    cosine coactivation split origin\n    feature { index label sae { id dSae } }\n  }\n"): typeof import('./graphql').LineageFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ExplorerLineage($saeId: ID!, $index: Int!) {\n    splitLineage(saeId: $saeId, index: $index, direction: BOTH, depth: 2) {\n      ...LineageFields\n      parents { ...LineageFields parents { ...LineageFields } }\n      children { ...LineageFields children { ...LineageFields } }\n    }\n  }\n"): typeof import('./graphql').ExplorerLineageDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query ExplorerLists { lists { id name description itemCount updatedAt } }"): typeof import('./graphql').ExplorerListsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ExplorerList($id: ID!) {\n    list(id: $id) { id name description createdAt items { note addedAt feature { id index label density sae { id } } } }\n  }\n"): typeof import('./graphql').ExplorerListDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation ExplorerRemoveFromList($listId: ID!, $saeId: ID!, $index: Int!) { removeFromList(listId: $listId, saeId: $saeId, index: $index) { id } }"): typeof import('./graphql').ExplorerRemoveFromListDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation ExplorerDeleteList($id: ID!) { deleteList(id: $id) }"): typeof import('./graphql').ExplorerDeleteListDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ExplorerSae($id: ID!) {\n    sae(id: $id) {\n      id name architecture hookName layer dIn dSae featureCount neuronpediaId\n      model { id name }\n      family { id name }\n      stats { deadFraction medianDensity neuronAlignedFraction labeledFraction densityHistogram(bins: 40) { deadCount unknownCount bins { log10Min log10Max count } } }\n    }\n  }\n"): typeof import('./graphql').ExplorerSaeDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ExplorerMapMatches($q: String!, $saeId: ID!) {\n    searchConcepts(query: $q, saeIds: [$saeId], k: 50, mode: HYBRID) { feature { index } }\n  }\n"): typeof import('./graphql').ExplorerMapMatchesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ExplorerMapKinds($saeId: ID!, $after: String) {\n    features(saeId: $saeId, first: 1000, after: $after) { edges { node { index splitKind originKind } } pageInfo { hasNextPage endCursor } }\n  }\n"): typeof import('./graphql').ExplorerMapKindsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ExplorerSearch($q: String!, $mode: SearchMode, $saeIds: [ID!]) {\n    searchConcepts(query: $q, k: 30, mode: $mode, saeIds: $saeIds) {\n      score matchedText\n      feature { id index label density sae { id } }\n    }\n  }\n"): typeof import('./graphql').ExplorerSearchDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query ExplorerSaeIds { saes { id } }"): typeof import('./graphql').ExplorerSaeIdsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ExplorerSearchByText($text: String!, $saeIds: [ID!]!) {\n    searchByText(text: $text, saeIds: $saeIds, k: 30) {\n      maxActivation tokenIndex\n      feature { id index label density sae { id } }\n    }\n  }\n"): typeof import('./graphql').ExplorerSearchByTextDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
