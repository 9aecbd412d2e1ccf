// 4-bit block-quantised decoder rows and a top-C scan of one query against them, for
// nearest-to-vector candidates. A single query against a large matrix is bound by memory
// bandwidth (every code byte is read once per query), so halving the bytes of the int8 scan
// halves its time; the dot products run on AVX-512 VNNI (vpdpbusd: 64 u8×s8 products per
// instruction) so unpacking the nibbles costs less than reading them, or on AVX2 + FMA
// (vpmaddubsw + vpmaddwd) where the CPU has no AVX-512 VNNI.
//
// Layout: every row is padded to dPad (a multiple of 128) dimensions and stored as dPad/128
// blocks of 64 bytes (one cache line). In block b, byte i holds two codes:
//   low nibble:  dimension b*128 + (i < 32 ? i : i + 32)
//   high nibble: that dimension + 32
// Codes are 0..15 with zero point 8: value = (code - 8) * scale[row * blocks + b].
// The query is quantised to int8 (symmetric, one scale) in the same block order.
//
// Built by scripts/build-native.mjs (plain gcc, Node's own headers, no downloads); the
// JavaScript side (src/kernel/native-scan.ts) uses it only when variant() is not "none".
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <immintrin.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sched.h>
#include <string.h>

#define BLOCK 128
#define BLOCK_BYTES 64
#define MAX_THREADS 16

// Kernels, best first: AVX-512 VNNI (vpdpbusd), then AVX2 + FMA (vpmaddubsw + vpmaddwd).
enum { V_NONE = 0, V_AVX2 = 1, V_AVX512VNNI = 2 };
static const char *VARIANT_NAMES[] = {"none", "avx2", "avx512vnni"};

static int detect_variant(void) {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni")) return V_AVX512VNNI;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return V_AVX2;
  return V_NONE;
}

/** Detected once when the module loads. */
static int cpu_variant_ = V_NONE;
static inline int cpu_variant(void) { return cpu_variant_; }

// ---- top-C selection: a min-heap of (score, row) per thread ----
typedef struct {
  float *score;
  int32_t *row;
  int size, cap;
} heap_t;

static inline int worse(const heap_t *h, int a, int b) {
  // a is worse than b: lower score, or equal score and larger row (ties keep the lower row).
  return h->score[a] < h->score[b] || (h->score[a] == h->score[b] && h->row[a] > h->row[b]);
}

static inline void heap_swap(heap_t *h, int a, int b) {
  float s = h->score[a]; h->score[a] = h->score[b]; h->score[b] = s;
  int32_t r = h->row[a]; h->row[a] = h->row[b]; h->row[b] = r;
}

static void heap_down(heap_t *h, int i) {
  for (;;) {
    int l = 2 * i + 1, r = l + 1, m = i;
    if (l < h->size && worse(h, l, m)) m = l;
    if (r < h->size && worse(h, r, m)) m = r;
    if (m == i) return;
    heap_swap(h, i, m);
    i = m;
  }
}

static inline void heap_offer(heap_t *h, float s, int32_t row) {
  if (h->size < h->cap) {
    int i = h->size++;
    h->score[i] = s;
    h->row[i] = row;
    while (i > 0) {
      int p = (i - 1) / 2;
      if (!worse(h, i, p)) break;
      heap_swap(h, i, p);
      i = p;
    }
  } else if (s > h->score[0] || (s == h->score[0] && row < h->row[0])) {
    h->score[0] = s;
    h->row[0] = row;
    heap_down(h, 0);
  }
}

// ---- the scan ----
typedef struct {
  const uint8_t *packed;
  const float *scales;
  int blocks;
  int32_t row0, row1;
  const int8_t *qa, *qb; /* blocks × 64 query bytes for the low / high nibbles */
  const int32_t *corr;   /* AVX-512: blocks × 16 lanes, -8 × (sum of the lane's 8 query bytes), the zero point */
  const int32_t *corr8;  /* AVX2: blocks × 8 lanes, -8 × (sum of the block's query bytes) in lane 0 */
  int variant;
  heap_t heap;
  float *out; /* when set: every row's score is written here (out[r]) instead of kept in the heap */
} job_t;

static inline void emit(job_t *j, float s, int32_t r) {
  if (j->out) j->out[r] = s;
  else heap_offer(&j->heap, s, r);
}

// Four rows per step: independent accumulation chains, and each query block loaded once for all four.
#define ROW_STEP 4
__attribute__((target("avx512f,avx512bw,avx512vnni"))) static inline __m512 block_dot(const uint8_t *p, __m512i qa, __m512i qb, __m512i corr, float scale, __m512 acc) {
  const __m512i low = _mm512_set1_epi8(0x0f);
  __m512i v = _mm512_loadu_si512((const void *)p);
  __m512i sa = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(v, low), qa);
  __m512i sb = _mm512_dpbusd_epi32(corr, _mm512_and_si512(_mm512_srli_epi16(v, 4), low), qb);
  return _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(sa, sb)), _mm512_set1_ps(scale), acc);
}

__attribute__((target("avx512f,avx512bw,avx512vnni"))) static void scan_rows(job_t *j) {
  const int blocks = j->blocks;
  const size_t rowBytes = (size_t)blocks * BLOCK_BYTES;
  int32_t r = j->row0;
  for (; r + ROW_STEP <= j->row1; r += ROW_STEP) {
    const uint8_t *p = j->packed + (size_t)r * rowBytes;
    const float *sc = j->scales + (size_t)r * blocks;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int b = 0; b < blocks; b++) {
      const __m512i qa = _mm512_loadu_si512((const void *)(j->qa + b * 64));
      const __m512i qb = _mm512_loadu_si512((const void *)(j->qb + b * 64));
      const __m512i corr = _mm512_loadu_si512((const void *)(j->corr + b * 16));
      const uint8_t *pb = p + b * BLOCK_BYTES;
      a0 = block_dot(pb, qa, qb, corr, sc[b], a0);
      a1 = block_dot(pb + rowBytes, qa, qb, corr, sc[blocks + b], a1);
      a2 = block_dot(pb + 2 * rowBytes, qa, qb, corr, sc[2 * blocks + b], a2);
      a3 = block_dot(pb + 3 * rowBytes, qa, qb, corr, sc[3 * blocks + b], a3);
    }
    emit(j, _mm512_reduce_add_ps(a0), r);
    emit(j, _mm512_reduce_add_ps(a1), r + 1);
    emit(j, _mm512_reduce_add_ps(a2), r + 2);
    emit(j, _mm512_reduce_add_ps(a3), r + 3);
  }
  for (; r < j->row1; r++) {
    const uint8_t *p = j->packed + (size_t)r * rowBytes;
    const float *sc = j->scales + (size_t)r * blocks;
    __m512 a0 = _mm512_setzero_ps();
    for (int b = 0; b < blocks; b++)
      a0 = block_dot(p + b * BLOCK_BYTES, _mm512_loadu_si512((const void *)(j->qa + b * 64)), _mm512_loadu_si512((const void *)(j->qb + b * 64)),
                     _mm512_loadu_si512((const void *)(j->corr + b * 16)), sc[b], a0);
    emit(j, _mm512_reduce_add_ps(a0), r);
  }
}

// AVX2: each 64-byte block is two 32-byte halves; in half h the low nibbles are query bytes
// qa[32h .. 32h+31] and the high nibbles qb[32h .. 32h+31]. vpmaddubsw adds pairs of u8×s8
// products into int16 (at most 2 × 15 × 127, no saturation), vpmaddwd widens to int32.
__attribute__((target("avx2,fma"))) static inline __m256i half_dot(__m256i v, const int8_t *qa, const int8_t *qb) {
  const __m256i low = _mm256_set1_epi8(0x0f), ones = _mm256_set1_epi16(1);
  __m256i lo = _mm256_maddubs_epi16(_mm256_and_si256(v, low), _mm256_loadu_si256((const void *)qa));
  __m256i hi = _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(v, 4), low), _mm256_loadu_si256((const void *)qb));
  return _mm256_madd_epi16(_mm256_add_epi16(lo, hi), ones);
}

__attribute__((target("avx2,fma"))) static void scan_rows_avx2(job_t *j) {
  const int blocks = j->blocks;
  const size_t rowBytes = (size_t)blocks * BLOCK_BYTES;
  for (int32_t r = j->row0; r < j->row1; r++) {
    const uint8_t *p = j->packed + (size_t)r * rowBytes;
    const float *sc = j->scales + (size_t)r * blocks;
    __m256 acc = _mm256_setzero_ps();
    for (int b = 0; b < blocks; b++) {
      const uint8_t *pb = p + b * BLOCK_BYTES;
      const int8_t *qa = j->qa + b * 64, *qb = j->qb + b * 64;
      __m256i s = _mm256_add_epi32(half_dot(_mm256_loadu_si256((const void *)pb), qa, qb),
                                   half_dot(_mm256_loadu_si256((const void *)(pb + 32)), qa + 32, qb + 32));
      s = _mm256_add_epi32(s, _mm256_loadu_si256((const void *)(j->corr8 + b * 8)));
      acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(sc[b]), acc);
    }
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    emit(j, _mm_cvtss_f32(h), r);
  }
}

static void run_job(job_t *j) {
  if (j->variant == V_AVX512VNNI) scan_rows(j);
  else scan_rows_avx2(j);
}

static void *scan_thread(void *arg) {
  run_job((job_t *)arg);
  return NULL;
}

// ---- N-API glue ----
#define CHECK(call)                                                        \
  do {                                                                     \
    if ((call) != napi_ok) {                                               \
      napi_throw_error(env, NULL, "scan4: N-API call failed: " #call);     \
      return NULL;                                                         \
    }                                                                      \
  } while (0)

static napi_value throw_range(napi_env env, const char *msg) {
  napi_throw_range_error(env, NULL, msg);
  return NULL;
}

static int typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *len) {
  bool is;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  napi_typedarray_type t;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &t, len, data, &ab, &off) != napi_ok) return 0;
  return t == want;
}

static napi_value new_typed(napi_env env, napi_typedarray_type t, size_t len, size_t elem, void **data) {
  napi_value ab, out;
  if (napi_create_arraybuffer(env, len * elem, data, &ab) != napi_ok) return NULL;
  if (napi_create_typedarray(env, t, len, ab, 0, &out) != napi_ok) return NULL;
  return out;
}

// variant() -> "avx512vnni" | "avx2" | "none": the kernel scan() uses on this CPU.
static napi_value js_variant(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  CHECK(napi_create_string_utf8(env, VARIANT_NAMES[cpu_variant()], NAPI_AUTO_LENGTH, &out));
  return out;
}

// pack(data: Float32Array, rows, d) -> { packed: Uint8Array, scales: Float32Array, err: Float32Array, dPad }
// err[r] = ‖x_r − x̂_r‖₂, the row's quantisation error, which bounds its score error (exact_core).
static napi_value js_pack(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) return throw_range(env, "pack(data, rows, d)");
  float *data;
  size_t n;
  if (!typed(env, argv[0], napi_float32_array, (void **)&data, &n)) return throw_range(env, "pack: data must be a Float32Array");
  int32_t rows, d;
  CHECK(napi_get_value_int32(env, argv[1], &rows));
  CHECK(napi_get_value_int32(env, argv[2], &d));
  if (rows < 0 || d <= 0 || (size_t)rows * d > n) return throw_range(env, "pack: data is shorter than rows × d");
  const int blocks = (d + BLOCK - 1) / BLOCK;
  uint8_t *packed;
  float *scales;
  napi_value jp = new_typed(env, napi_uint8_array, (size_t)rows * blocks * BLOCK_BYTES, 1, (void **)&packed);
  napi_value js = new_typed(env, napi_float32_array, (size_t)rows * blocks, 4, (void **)&scales);
  float *errs;
  napi_value je = new_typed(env, napi_float32_array, (size_t)rows, 4, (void **)&errs);
  if (!jp || !js || !je) return throw_range(env, "pack: out of memory");
  for (int32_t r = 0; r < rows; r++) {
    const float *x = data + (size_t)r * d;
    double e2 = 0;
    for (int b = 0; b < blocks; b++) {
      const int base = b * BLOCK;
      float mx = 0;
      for (int t = 0; t < BLOCK && base + t < d; t++) mx = fmaxf(mx, fabsf(x[base + t]));
      const float scale = mx / 7.0f, inv = scale > 0 ? 1.0f / scale : 0.0f;
      scales[(size_t)r * blocks + b] = scale;
      uint8_t *out = packed + ((size_t)r * blocks + b) * BLOCK_BYTES;
      for (int i = 0; i < BLOCK_BYTES; i++) {
        const int dl = base + (i < 32 ? i : i + 32), dh = dl + 32;
        int cl = dl < d ? (int)lrintf(x[dl] * inv) : 0, ch = dh < d ? (int)lrintf(x[dh] * inv) : 0;
        cl = cl < -7 ? -7 : cl > 7 ? 7 : cl;
        ch = ch < -7 ? -7 : ch > 7 ? 7 : ch;
        out[i] = (uint8_t)((cl + 8) | ((ch + 8) << 4));
        if (dl < d) e2 += ((double)x[dl] - (double)cl * scale) * ((double)x[dl] - (double)cl * scale);
        if (dh < d) e2 += ((double)x[dh] - (double)ch * scale) * ((double)x[dh] - (double)ch * scale);
      }
    }
    // Rounded up so the bound it gives (exact_core) never undershoots.
    errs[r] = (float)(sqrt(e2) * (1 + 1e-6)) + 1e-7f;
  }
  napi_value res, dp;
  CHECK(napi_create_object(env, &res));
  CHECK(napi_create_int32(env, blocks * BLOCK, &dp));
  CHECK(napi_set_named_property(env, res, "packed", jp));
  CHECK(napi_set_named_property(env, res, "scales", js));
  CHECK(napi_set_named_property(env, res, "err", je));
  CHECK(napi_set_named_property(env, res, "dPad", dp));
  return res;
}

// The scan itself, free of N-API (it also runs on a libuv worker thread): the k best rows of
// `rows` against `query`, best first, into outRows / outScores (k <= rows). Returns 0, or -1
// when out of memory.
// With `all` set, every row's raw score (before the query scale) goes to all[r] instead, and the
// query's scale and the norm of its quantisation error go to *qscaleOut and *qerrOut.
static int scan_core_all(const uint8_t *packed, const float *scales, int32_t rows, int32_t d, const float *query, int32_t k,
                         int threads, int variant, int32_t *outRows, float *outScores, float *all, float *qscaleOut, double *qerrOut) {
  const int blocks = (d + BLOCK - 1) / BLOCK;
  if (threads < 1) threads = 1;
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  if (rows < 4096 * threads) threads = rows >= 8192 ? 2 : 1;
  if (all) k = 1;
  if (k <= 0) return 0;

  // Quantise the query to int8 in the packed block order, with each lane's zero-point correction.
  float mx = 0;
  for (int i = 0; i < d; i++) mx = fmaxf(mx, fabsf(query[i]));
  const float qscale = mx / 127.0f, qinv = qscale > 0 ? 1.0f / qscale : 0.0f;
  int8_t *qa = aligned_alloc(64, (size_t)blocks * 64), *qb = aligned_alloc(64, (size_t)blocks * 64);
  int32_t *corr = aligned_alloc(64, (size_t)blocks * 16 * sizeof(int32_t));
  int32_t *corr8 = aligned_alloc(64, (size_t)blocks * 16 * sizeof(int32_t));
  float *hs = malloc(sizeof(float) * (size_t)k * (threads + 1));
  int32_t *hr = malloc(sizeof(int32_t) * (size_t)k * (threads + 1));
  int rc = 0;
  if (!qa || !qb || !corr || !corr8 || !hs || !hr) {
    rc = -1;
    goto done;
  }
  for (int b = 0; b < blocks; b++) {
    for (int i = 0; i < 64; i++) {
      const int dl = b * BLOCK + (i < 32 ? i : i + 32), dh = dl + 32;
      qa[b * 64 + i] = (int8_t)(dl < d ? lrintf(query[dl] * qinv) : 0);
      qb[b * 64 + i] = (int8_t)(dh < d ? lrintf(query[dh] * qinv) : 0);
    }
    int32_t total = 0;
    for (int l = 0; l < 16; l++) {
      int32_t sum = 0;
      for (int t = 0; t < 4; t++) sum += qa[b * 64 + 4 * l + t] + qb[b * 64 + 4 * l + t];
      corr[b * 16 + l] = -8 * sum;
      total += sum;
    }
    for (int l = 0; l < 8; l++) corr8[b * 8 + l] = l == 0 ? -8 * total : 0;
  }
  if (all) {
    double e2 = 0;
    for (int i = 0; i < d; i++) {
      const int b = i / BLOCK, o = i % BLOCK, half = o / 32;
      const int8_t code = (half == 0 || half == 2) ? qa[b * 64 + (half == 0 ? o : o - 32)] : qb[b * 64 + (half == 1 ? o - 32 : o - 64)];
      const double e = (double)query[i] - (double)code * qscale;
      e2 += e * e;
    }
    *qscaleOut = qscale;
    *qerrOut = sqrt(e2);
  }

  job_t jobs[MAX_THREADS];
  pthread_t tids[MAX_THREADS];
  int started[MAX_THREADS] = {0};
  const int32_t per = (rows + threads - 1) / threads;
  for (int t = 0; t < threads; t++) {
    job_t *j = &jobs[t];
    j->packed = packed;
    j->scales = scales;
    j->blocks = blocks;
    j->row0 = t * per < rows ? t * per : rows;
    j->row1 = (t + 1) * per < rows ? (t + 1) * per : rows;
    j->qa = qa;
    j->qb = qb;
    j->corr = corr;
    j->corr8 = corr8;
    j->variant = variant;
    j->heap = (heap_t){hs + (size_t)t * k, hr + (size_t)t * k, 0, k};
    j->out = all;
  }
  // Helpers start away from the calling thread's CPU: a new thread otherwise tends to queue on
  // the CPU that created it (busy with the first share) while another sits idle.
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  cpu_set_t others;
  CPU_ZERO(&others);
  const int me = sched_getcpu();
  if (me >= 0 && sched_getaffinity(0, sizeof others, &others) == 0 && CPU_ISSET(me, &others) && CPU_COUNT(&others) > 1) {
    CPU_CLR(me, &others);
    pthread_attr_setaffinity_np(&attr, sizeof others, &others);
  }
  for (int t = 1; t < threads; t++) started[t] = pthread_create(&tids[t], &attr, scan_thread, &jobs[t]) == 0;
  pthread_attr_destroy(&attr);
  run_job(&jobs[0]);
  for (int t = 1; t < threads; t++) {
    if (started[t]) pthread_join(tids[t], NULL);
    else run_job(&jobs[t]);
  }
  if (all) goto done;
  // Merge the per-thread heaps into one (the spare slot after them), then pop it worst first
  // into the end of the output, so the output is best first.
  heap_t merged = jobs[0].heap;
  if (threads > 1) {
    merged = (heap_t){hs + (size_t)threads * k, hr + (size_t)threads * k, 0, k};
    for (int t = 0; t < threads; t++)
      for (int i = 0; i < jobs[t].heap.size; i++) heap_offer(&merged, jobs[t].heap.score[i], jobs[t].heap.row[i]);
  }
  for (int i = merged.size - 1; i >= 0; i--) {
    outScores[i] = merged.score[0] * qscale;
    outRows[i] = merged.row[0];
    heap_swap(&merged, 0, merged.size - 1);
    merged.size--;
    heap_down(&merged, 0);
  }
done:
  free(qa); free(qb); free(corr); free(corr8); free(hs); free(hr);
  return rc;
}

static int scan_core(const uint8_t *packed, const float *scales, int32_t rows, int32_t d, const float *query, int32_t k,
                     int threads, int variant, int32_t *outRows, float *outScores) {
  return scan_core_all(packed, scales, rows, d, query, k, threads, variant, outRows, outScores, NULL, NULL, NULL);
}

// Arguments shared by scan and scanAsync, checked.
typedef struct {
  uint8_t *packed;
  float *scales, *query;
  int32_t rows, d, k, threads;
  int variant;
} scan_args_t;

static int scan_args(napi_env env, napi_callback_info info, scan_args_t *a, napi_value *argv) {
  size_t argc = 8;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  if (argc < 7) return throw_range(env, "scan(packed, scales, rows, d, query, k, threads[, variant])"), 0;
  a->variant = cpu_variant();
  if (a->variant == V_NONE) return throw_range(env, "scan: this CPU has neither AVX-512 VNNI nor AVX2 with FMA"), 0;
  napi_valuetype t = napi_undefined;
  if (argc >= 8 && napi_typeof(env, argv[7], &t) == napi_ok && t == napi_string) {
    char want[16];
    size_t len;
    if (napi_get_value_string_utf8(env, argv[7], want, sizeof want, &len) != napi_ok) return 0;
    if (strcmp(want, "avx2") == 0) a->variant = V_AVX2;
    else if (strcmp(want, VARIANT_NAMES[a->variant]) != 0) return throw_range(env, "scan: unknown or unsupported variant"), 0;
  }
  size_t np, ns, nq;
  if (!typed(env, argv[0], napi_uint8_array, (void **)&a->packed, &np)) return throw_range(env, "scan: packed must be a Uint8Array"), 0;
  if (!typed(env, argv[1], napi_float32_array, (void **)&a->scales, &ns)) return throw_range(env, "scan: scales must be a Float32Array"), 0;
  if (!typed(env, argv[4], napi_float32_array, (void **)&a->query, &nq)) return throw_range(env, "scan: query must be a Float32Array"), 0;
  if (napi_get_value_int32(env, argv[2], &a->rows) != napi_ok || napi_get_value_int32(env, argv[3], &a->d) != napi_ok ||
      napi_get_value_int32(env, argv[5], &a->k) != napi_ok || napi_get_value_int32(env, argv[6], &a->threads) != napi_ok)
    return throw_range(env, "scan: rows, d, k and threads must be numbers"), 0;
  if (a->rows < 0 || a->d <= 0 || a->k < 0) return throw_range(env, "scan: rows, d and k must be non-negative"), 0;
  const int blocks = (a->d + BLOCK - 1) / BLOCK;
  if (np < (size_t)a->rows * blocks * BLOCK_BYTES || ns < (size_t)a->rows * blocks) return throw_range(env, "scan: packed or scales shorter than rows"), 0;
  if (nq < (size_t)a->d) return throw_range(env, "scan: query shorter than d"), 0;
  if (a->k > a->rows) a->k = a->rows;
  return 1;
}

static napi_value scan_result(napi_env env, const int32_t *rows, const float *scores, int32_t k) {
  int32_t *outRows;
  float *outScores;
  napi_value jr = new_typed(env, napi_int32_array, k, 4, (void **)&outRows);
  napi_value jsc = new_typed(env, napi_float32_array, k, 4, (void **)&outScores);
  napi_value res;
  if (!jr || !jsc || napi_create_object(env, &res) != napi_ok) return NULL;
  if (k > 0) {
    memcpy(outRows, rows, sizeof(int32_t) * k);
    memcpy(outScores, scores, sizeof(float) * k);
  }
  if (napi_set_named_property(env, res, "rows", jr) != napi_ok || napi_set_named_property(env, res, "scores", jsc) != napi_ok) return NULL;
  return res;
}

// scan(packed, scales, rows, d, query: Float32Array (d), k, threads[, variant]) -> { rows: Int32Array, scores: Float32Array }
// Scores approximate query · row (the query's own scale applied); best first. variant ("avx2")
// asks for a kernel below the best one the CPU has (tests compare them). Runs on the calling thread.
static napi_value js_scan(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  scan_args_t a;
  if (!scan_args(env, info, &a, argv)) return NULL;
  int32_t *rows = malloc(sizeof(int32_t) * (size_t)(a.k > 0 ? a.k : 1));
  float *scores = malloc(sizeof(float) * (size_t)(a.k > 0 ? a.k : 1));
  napi_value res = NULL;
  if (rows && scores && scan_core(a.packed, a.scales, a.rows, a.d, a.query, a.k, a.threads, a.variant, rows, scores) == 0)
    res = scan_result(env, rows, scores, a.k);
  free(rows);
  free(scores);
  if (!res) return throw_range(env, "scan: out of memory");
  return res;
}

// scanAsync(same arguments) -> Promise<{ rows, scores }>: the scan on a libuv worker thread, so
// the event loop keeps serving while a large matrix is read. The arrays stay referenced (and the
// query is copied) until it completes.
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref packedRef, scalesRef;
  scan_args_t a;
  int32_t *rows;
  float *scores;
  int rc;
} async_scan_t;

static void async_execute(napi_env env, void *data) {
  (void)env;
  async_scan_t *s = data;
  s->rc = scan_core(s->a.packed, s->a.scales, s->a.rows, s->a.d, s->a.query, s->a.k, s->a.threads, s->a.variant, s->rows, s->scores);
}

static void async_complete(napi_env env, napi_status status, void *data) {
  async_scan_t *s = data;
  napi_value res = NULL;
  if (status == napi_ok && s->rc == 0) res = scan_result(env, s->rows, s->scores, s->a.k);
  if (res) napi_resolve_deferred(env, s->deferred, res);
  else {
    napi_value msg, err;
    napi_create_string_utf8(env, status == napi_ok ? "scan: out of memory" : "scan: cancelled", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &err);
    napi_reject_deferred(env, s->deferred, err);
  }
  napi_delete_reference(env, s->packedRef);
  napi_delete_reference(env, s->scalesRef);
  napi_delete_async_work(env, s->work);
  free(s->a.query);
  free(s->rows);
  free(s->scores);
  free(s);
}

static napi_value js_scan_async(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  async_scan_t *s = calloc(1, sizeof(async_scan_t));
  if (!s) return throw_range(env, "scan: out of memory");
  if (!scan_args(env, info, &s->a, argv)) {
    free(s);
    return NULL;
  }
  const float *query = s->a.query;
  s->a.query = malloc(sizeof(float) * (size_t)s->a.d);
  s->rows = malloc(sizeof(int32_t) * (size_t)(s->a.k > 0 ? s->a.k : 1));
  s->scores = malloc(sizeof(float) * (size_t)(s->a.k > 0 ? s->a.k : 1));
  if (!s->a.query || !s->rows || !s->scores) {
    free(s->a.query); free(s->rows); free(s->scores); free(s);
    return throw_range(env, "scan: out of memory");
  }
  memcpy(s->a.query, query, sizeof(float) * (size_t)s->a.d);
  napi_value promise, name;
  CHECK(napi_create_promise(env, &s->deferred, &promise));
  CHECK(napi_create_reference(env, argv[0], 1, &s->packedRef));
  CHECK(napi_create_reference(env, argv[1], 1, &s->scalesRef));
  CHECK(napi_create_string_utf8(env, "monoscope.scan4", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_create_async_work(env, NULL, name, async_execute, async_complete, s, &s->work));
  CHECK(napi_queue_async_work(env, s->work));
  return promise;
}

// ---- exact re-rank: float32 dot products of query rows with chosen matrix rows ----
__attribute__((target("avx2,fma"))) static float dot_avx2(const float *a, const float *b, int d) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int j = 0;
  for (; j + 16 <= d; j += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 8), _mm256_loadu_ps(b + j + 8), s1);
  }
  for (; j + 8 <= d; j += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j), s0);
  s0 = _mm256_add_ps(s0, s1);
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(s0), _mm256_extractf128_ps(s0, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  float s = _mm_cvtss_f32(h);
  for (; j < d; j++) s += a[j] * b[j];
  return s;
}

// dots(q: Float32Array (qRows × d), qRows, d, data: Float32Array (rows × d), rows: Int32Array
// (qRows × per), per) -> Float32Array (qRows × per): q[c] · data[rows[c·per + t]]; NaN for a
// row index outside the matrix (callers pass -1 for "none").
static napi_value js_dots(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6) return throw_range(env, "dots(q, qRows, d, data, rows, per)");
  if (cpu_variant() == V_NONE) return throw_range(env, "dots: this CPU has neither AVX-512 VNNI nor AVX2 with FMA");
  float *q, *data;
  int32_t *rows;
  size_t nq, nd, nr;
  int32_t qRows, d, per;
  if (!typed(env, argv[0], napi_float32_array, (void **)&q, &nq)) return throw_range(env, "dots: q must be a Float32Array");
  if (!typed(env, argv[3], napi_float32_array, (void **)&data, &nd)) return throw_range(env, "dots: data must be a Float32Array");
  if (!typed(env, argv[4], napi_int32_array, (void **)&rows, &nr)) return throw_range(env, "dots: rows must be an Int32Array");
  CHECK(napi_get_value_int32(env, argv[1], &qRows));
  CHECK(napi_get_value_int32(env, argv[2], &d));
  CHECK(napi_get_value_int32(env, argv[5], &per));
  if (qRows < 0 || d <= 0 || per < 0) return throw_range(env, "dots: qRows, d and per must be non-negative");
  if (nq < (size_t)qRows * d || nr < (size_t)qRows * per) return throw_range(env, "dots: q or rows shorter than qRows");
  const size_t dataRows = nd / (size_t)d;
  float *out;
  napi_value jo = new_typed(env, napi_float32_array, (size_t)qRows * per, 4, (void **)&out);
  if (!jo) return throw_range(env, "dots: out of memory");
  for (int32_t c = 0; c < qRows; c++) {
    for (int32_t t = 0; t < per; t++) {
      const int32_t r = rows[(size_t)c * per + t];
      float v = NAN;
      if (r >= 0 && (size_t)r < dataRows) v = dot_avx2(q + (size_t)c * d, data + (size_t)r * d, d);
      out[(size_t)c * per + t] = v;
    }
  }
  return jo;
}


// ---- certified exact top-k ----
// Every row's 4-bit score a_r differs from its exact float32 cosine by at most
//   ‖q‖·err4[r] + ‖q − q̂‖·(1 + err4[r]) + slack
// (q·x − q̂·x̂ = q·(x − x̂) + (q − q̂)·x̂, Cauchy–Schwarz on each term, ‖x̂‖ ≤ 1 + err4 for unit x;
// slack covers float32 rounding of both sums). A row whose upper bound is below the k-th best
// exact cosine found so far cannot enter the top k, so re-ranking every other row exactly gives
// the exact top k. The bound is loose (it assumes the error points along q), so rows that pass it
// meet a second, ~15x tighter bound from their int8 codes (the query rounded to int8 too, its
// error bounded the same way) before the float32 dot product. Both tiers run on every thread.
// Σ (c_j − 128)·q8_j exactly in int32: codes shifted to int8 (xor 0x80), then vpmaddubsw on
// |c| and q·sign(c) (pair sums at most 2 × 127 × 127, no saturation).
__attribute__((target("avx2,fma"))) static int32_t dot_i8(const int8_t *q8, const uint8_t *c, int d) {
  const __m256i flip = _mm256_set1_epi8((char)0x80), ones = _mm256_set1_epi16(1);
  __m256i acc = _mm256_setzero_si256();
  int j = 0;
  for (; j + 32 <= d; j += 32) {
    const __m256i x = _mm256_xor_si256(_mm256_loadu_si256((const void *)(c + j)), flip);
    const __m256i y = _mm256_loadu_si256((const void *)(q8 + j));
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x)), ones));
  }
  __m128i h = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
  h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
  h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
  int32_t s = _mm_cvtsi128_si32(h);
  for (; j < d; j++) s += ((int)c[j] - 128) * q8[j];
  return s;
}

typedef struct {
  const uint8_t *packed;
  const float *scales, *err4;
  const uint8_t *codes8; /* optional: rows × d int8 codes, zero point 128 */
  const float *scale8, *err8;
  const float *data, *query;
  int32_t rows, d, k, exclude, threads, variant;
  int32_t *outRows;
  float *outScores;
  int32_t found, reranked, screened;
} exact_args_t;

// Second and third tiers over rows [row0, row1): the int8 bound, then the float32 dot product,
// for each row whose 4-bit bound u[r] still reaches the threshold (t0, or this share's own k-th).
typedef struct {
  const exact_args_t *a;
  const float *u;
  const int8_t *q8;
  float q8scale, bound8, slack, qn, t0;
  int32_t row0, row1, reranked, screened;
  heap_t top;
} tier_job_t;

static void tier_rows(tier_job_t *j) {
  const exact_args_t *a = j->a;
  const int32_t d = a->d;
  for (int32_t r = j->row0; r < j->row1; r++) {
    const float kth = j->top.size < j->top.cap ? -INFINITY : j->top.score[0];
    const float t = kth > j->t0 ? kth : j->t0;
    if (!(j->u[r] >= t) || r == a->exclude) continue; /* NaN: evaluated with the first candidates */
    if (a->codes8) {
      const float v = (float)dot_i8(j->q8, a->codes8 + (size_t)r * d, d) * j->q8scale * a->scale8[r];
      if (v + j->qn * a->err8[r] + j->bound8 * (1 + a->err8[r]) + j->slack < t) {
        j->screened++;
        continue;
      }
    }
    heap_offer(&j->top, dot_avx2(a->query, a->data + (size_t)r * d, d), r);
    j->reranked++;
  }
}

static void *tier_thread(void *arg) {
  tier_rows((tier_job_t *)arg);
  return NULL;
}

static int exact_core(exact_args_t *a) {
  const int32_t rows = a->rows, d = a->d, k = a->k;
  a->found = a->reranked = a->screened = 0;
  if (k <= 0 || rows == 0) return 0;
  int threads = a->threads < 1 ? 1 : a->threads > MAX_THREADS ? MAX_THREADS : a->threads;
  if (rows < 4096 * threads) threads = rows >= 8192 ? 2 : 1;
  float *u = malloc(sizeof(float) * (size_t)rows);
  const int32_t over = 2 * k > 64 ? 2 * k : 64;
  const int32_t c0 = rows < k + 1 + over ? rows : k + 1 + over;
  const size_t heapCells = (size_t)c0 + (size_t)k * (threads + 1);
  float *hs = malloc(sizeof(float) * heapCells);
  int32_t *hr = malloc(sizeof(int32_t) * heapCells);
  int8_t *q8 = malloc((size_t)d);
  float qscale = 0;
  double qerr = 0;
  int rc = -1;
  if (!u || !hs || !hr || !q8) goto out;
  if (scan_core_all(a->packed, a->scales, rows, d, a->query, 1, a->threads, a->variant, NULL, NULL, u, &qscale, &qerr) != 0) goto out;
  double qn2 = 0, qmax = 0;
  for (int j = 0; j < d; j++) {
    qn2 += (double)a->query[j] * a->query[j];
    qmax = fmax(qmax, fabs(a->query[j]));
  }
  // The int8 tier's own query quantisation (one scale) and the norm of its error.
  const float q8scale = (float)(qmax / 127.0), q8inv = q8scale > 0 ? 1.0f / q8scale : 0.0f;
  double e8 = 0;
  for (int j = 0; j < d; j++) {
    const long c = lrintf(a->query[j] * q8inv);
    q8[j] = (int8_t)(c > 127 ? 127 : c < -127 ? -127 : c);
    e8 += ((double)a->query[j] - (double)q8[j] * q8scale) * ((double)a->query[j] - (double)q8[j] * q8scale);
  }
  const float qn = (float)sqrt(qn2), qe = (float)qerr;
  // Float32 rounding of a d-term dot product of unit vectors stays below d·eps; doubled for margin.
  const float slack = 2.0f * (float)d * FLT_EPSILON * (qn > 1 ? qn : 1);
  for (int32_t r = 0; r < rows; r++) u[r] = u[r] * qscale + qn * a->err4[r] + qe * (1 + a->err4[r]) + slack;
  // First candidates: the best c0 upper bounds, re-ranked exactly; their k-th cosine is the threshold.
  heap_t cand = {hs, hr, 0, c0}, top = {hs + c0, hr + c0, 0, k};
  for (int32_t r = 0; r < rows; r++) heap_offer(&cand, u[r], r);
  for (int i = 0; i < cand.size; i++) {
    const int32_t r = cand.row[i];
    u[r] = NAN;
    if (r == a->exclude) continue;
    heap_offer(&top, dot_avx2(a->query, a->data + (size_t)r * d, d), r);
    a->reranked++;
  }
  const float t0 = top.size < k ? -INFINITY : top.score[0];
  tier_job_t jobs[MAX_THREADS];
  pthread_t tids[MAX_THREADS];
  int started[MAX_THREADS] = {0};
  const int32_t per = (rows + threads - 1) / threads;
  for (int t = 0; t < threads; t++) {
    jobs[t] = (tier_job_t){a, u, q8, q8scale, (float)sqrt(e8), slack, qn, t0, t * per < rows ? t * per : rows, (t + 1) * per < rows ? (t + 1) * per : rows, 0, 0,
                           (heap_t){hs + c0 + (size_t)k * (t + 1), hr + c0 + (size_t)k * (t + 1), 0, k}};
  }
  for (int t = 1; t < threads; t++) started[t] = pthread_create(&tids[t], NULL, tier_thread, &jobs[t]) == 0;
  tier_rows(&jobs[0]);
  for (int t = 1; t < threads; t++) {
    if (started[t]) pthread_join(tids[t], NULL);
    else tier_rows(&jobs[t]);
  }
  // Each share's top k, merged with the first candidates' (disjoint rows).
  for (int t = 0; t < threads; t++) {
    for (int i = 0; i < jobs[t].top.size; i++) heap_offer(&top, jobs[t].top.score[i], jobs[t].top.row[i]);
    a->reranked += jobs[t].reranked;
    a->screened += jobs[t].screened;
  }
  a->found = top.size;
  for (int i = top.size - 1; i >= 0; i--) {
    a->outScores[i] = top.score[0];
    a->outRows[i] = top.row[0];
    heap_swap(&top, 0, top.size - 1);
    top.size--;
    heap_down(&top, 0);
  }
  rc = 0;
out:
  free(u); free(hs); free(hr); free(q8);
  return rc;
}

static int opt_typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *len) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) == napi_ok && (t == napi_null || t == napi_undefined)) {
    *data = NULL;
    *len = 0;
    return 1;
  }
  return typed(env, v, want, data, len);
}

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref refs[7];
  exact_args_t a;
  int rc;
} async_exact_t;

static napi_value exact_result(napi_env env, exact_args_t *a) {
  napi_value res = NULL, jr, jsc, n1, n2;
  int32_t *r;
  float *sc;
  jr = new_typed(env, napi_int32_array, a->found, 4, (void **)&r);
  jsc = new_typed(env, napi_float32_array, a->found, 4, (void **)&sc);
  if (!jr || !jsc || napi_create_object(env, &res) != napi_ok) return NULL;
  if (a->found > 0) {
    memcpy(r, a->outRows, sizeof(int32_t) * a->found);
    memcpy(sc, a->outScores, sizeof(float) * a->found);
  }
  if (napi_create_int32(env, a->reranked, &n1) != napi_ok || napi_create_int32(env, a->screened, &n2) != napi_ok) return NULL;
  napi_set_named_property(env, res, "rows", jr);
  napi_set_named_property(env, res, "scores", jsc);
  napi_set_named_property(env, res, "reranked", n1);
  napi_set_named_property(env, res, "screened", n2);
  return res;
}

static void exact_execute(napi_env env, void *data) {
  (void)env;
  async_exact_t *s = data;
  s->rc = exact_core(&s->a);
}

static void exact_complete(napi_env env, napi_status status, void *data) {
  async_exact_t *s = data;
  napi_value res = status == napi_ok && s->rc == 0 ? exact_result(env, &s->a) : NULL;
  if (res) napi_resolve_deferred(env, s->deferred, res);
  else {
    napi_value msg, err;
    napi_create_string_utf8(env, "exactTopK: out of memory or cancelled", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &err);
    napi_reject_deferred(env, s->deferred, err);
  }
  for (int i = 0; i < 7; i++)
    if (s->refs[i]) napi_delete_reference(env, s->refs[i]);
  napi_delete_async_work(env, s->work);
  free((void *)s->a.query);
  free(s->a.outRows);
  free(s->a.outScores);
  free(s);
}

// exactTopK(packed, scales, err4, codes8|null, scale8|null, err8|null, data, rows, d, query, k, exclude, threads, async)
//   -> { rows, scores, reranked, screened } (a Promise when async): the exact top k rows by
// float32 dot product with query (ties to the lower row), leaving out row `exclude` (-1: none).
static napi_value js_exact(napi_env env, napi_callback_info info) {
  size_t argc = 14;
  napi_value argv[14];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 14) return throw_range(env, "exactTopK(packed, scales, err4, codes8, scale8, err8, data, rows, d, query, k, exclude, threads, async)");
  exact_args_t a = {0};
  a.variant = cpu_variant();
  if (a.variant == V_NONE) return throw_range(env, "exactTopK: this CPU has neither AVX-512 VNNI nor AVX2 with FMA");
  size_t np, ns, ne, nc, n8, ne8, nd, nq;
  bool isAsync = false;
  if (!typed(env, argv[0], napi_uint8_array, (void **)&a.packed, &np) || !typed(env, argv[1], napi_float32_array, (void **)&a.scales, &ns) ||
      !typed(env, argv[2], napi_float32_array, (void **)&a.err4, &ne) || !opt_typed(env, argv[3], napi_uint8_array, (void **)&a.codes8, &nc) ||
      !opt_typed(env, argv[4], napi_float32_array, (void **)&a.scale8, &n8) || !opt_typed(env, argv[5], napi_float32_array, (void **)&a.err8, &ne8) ||
      !typed(env, argv[6], napi_float32_array, (void **)&a.data, &nd) || !typed(env, argv[9], napi_float32_array, (void **)&a.query, &nq))
    return throw_range(env, "exactTopK: packed, codes8 Uint8Array; scales, err4, scale8, err8, data, query Float32Array");
  if (napi_get_value_int32(env, argv[7], &a.rows) != napi_ok || napi_get_value_int32(env, argv[8], &a.d) != napi_ok ||
      napi_get_value_int32(env, argv[10], &a.k) != napi_ok || napi_get_value_int32(env, argv[11], &a.exclude) != napi_ok ||
      napi_get_value_int32(env, argv[12], &a.threads) != napi_ok || napi_get_value_bool(env, argv[13], &isAsync) != napi_ok)
    return throw_range(env, "exactTopK: rows, d, k, exclude, threads must be numbers and async a boolean");
  if (a.rows < 0 || a.d <= 0 || a.k < 0) return throw_range(env, "exactTopK: rows, d and k must be non-negative");
  const int blocks = (a.d + BLOCK - 1) / BLOCK;
  const size_t cells = (size_t)a.rows * a.d;
  if (np < (size_t)a.rows * blocks * BLOCK_BYTES || ns < (size_t)a.rows * blocks || ne < (size_t)a.rows || nd < cells || nq < (size_t)a.d)
    return throw_range(env, "exactTopK: an array is shorter than rows");
  if (a.codes8 && (nc < cells || !a.scale8 || !a.err8 || n8 < (size_t)a.rows || ne8 < (size_t)a.rows))
    return throw_range(env, "exactTopK: codes8, scale8 and err8 must cover every row");
  if (a.k > a.rows) a.k = a.rows;
  const size_t kk = a.k > 0 ? a.k : 1;
  a.outRows = malloc(sizeof(int32_t) * kk);
  a.outScores = malloc(sizeof(float) * kk);
  if (!a.outRows || !a.outScores) {
    free(a.outRows); free(a.outScores);
    return throw_range(env, "exactTopK: out of memory");
  }
  if (!isAsync) {
    napi_value res = exact_core(&a) == 0 ? exact_result(env, &a) : NULL;
    free(a.outRows); free(a.outScores);
    if (!res) return throw_range(env, "exactTopK: out of memory");
    return res;
  }
  async_exact_t *s = calloc(1, sizeof(async_exact_t));
  float *q = malloc(sizeof(float) * (size_t)a.d);
  if (!s || !q) {
    free(s); free(q); free(a.outRows); free(a.outScores);
    return throw_range(env, "exactTopK: out of memory");
  }
  memcpy(q, a.query, sizeof(float) * (size_t)a.d);
  a.query = q;
  s->a = a;
  const int held[7] = {0, 1, 2, 3, 4, 5, 6};
  for (int i = 0; i < 7; i++) {
    napi_valuetype t;
    napi_typeof(env, argv[held[i]], &t);
    if (t == napi_object) CHECK(napi_create_reference(env, argv[held[i]], 1, &s->refs[i]));
  }
  napi_value promise, name;
  CHECK(napi_create_promise(env, &s->deferred, &promise));
  CHECK(napi_create_string_utf8(env, "monoscope.exact4", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_create_async_work(env, NULL, name, exact_execute, exact_complete, s, &s->work));
  CHECK(napi_queue_async_work(env, s->work));
  return promise;
}

static napi_value init(napi_env env, napi_value exports) {
  cpu_variant_ = detect_variant();
  napi_property_descriptor props[] = {
      {"variant", NULL, js_variant, NULL, NULL, NULL, napi_default, NULL},
      {"pack", NULL, js_pack, NULL, NULL, NULL, napi_default, NULL},
      {"scan", NULL, js_scan, NULL, NULL, NULL, napi_default, NULL},
      {"scanAsync", NULL, js_scan_async, NULL, NULL, NULL, napi_default, NULL},
      {"dots", NULL, js_dots, NULL, NULL, NULL, napi_default, NULL},
      {"exactTopK", NULL, js_exact, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, 6, props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(scan4, init)
