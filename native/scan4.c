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
  // F16C too: the matrices are float16 rows (decoded by vcvtph2ps); every AVX2 CPU has it.
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma") || !__builtin_cpu_supports("f16c")) return V_NONE;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni")) return V_AVX512VNNI;
  return V_AVX2;
  return V_NONE;
}

/** Detected once when the module loads. */
static int cpu_variant_ = V_NONE;
static inline int cpu_variant(void) { return cpu_variant_; }

// ---- float16 rows: the matrices hold the stored halfvec values (rows × d float16) and one float32
// 1/‖row‖ per row; the unit row is x[j] = f32(h[j]) · inv, each product rounded to float32 (the
// same value src/modules/geometry/decoder-matrix.ts decodes in JavaScript). ----
static inline float half_to_float(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) bits = sign;
    else { /* subnormal: mant · 2^-24, exact in float32 */
      float f = (float)mant * 5.9604644775390625e-8f;
      memcpy(&bits, &f, 4);
      bits |= sign;
    }
  } else if (exp == 31) bits = sign | 0x7f800000u | (mant << 13);
  else bits = sign | ((exp + 112) << 23) | (mant << 13);
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

__attribute__((target("avx2,fma,f16c"))) static void decode_row_f16c(const uint16_t *h, float inv, int d, float *out) {
  const __m256 vi = _mm256_set1_ps(inv);
  int j = 0;
  for (; j + 8 <= d; j += 8) _mm256_storeu_ps(out + j, _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + j))), vi));
  for (; j < d; j++) out[j] = half_to_float(h[j]) * inv;
}

static void decode_row_plain(const uint16_t *h, float inv, int d, float *out) {
  for (int j = 0; j < d; j++) out[j] = half_to_float(h[j]) * inv;
}

/** The unit row r of (half, invNorm) into out (d floats). */
static inline void decode_row(const uint16_t *half, const float *invNorm, int32_t r, int d, float *out) {
  if (cpu_variant() != V_NONE) decode_row_f16c(half + (size_t)r * d, invNorm[r], d, out);
  else decode_row_plain(half + (size_t)r * d, invNorm[r], d, out);
}

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

// pack(data: Float32Array, rows, d) -> { packed, scales, err, resid, rscales, err2, dPad }
// packed/scales: the 4-bit codes the scan reads. Each block's scale is the one of
// max|x|/7 × {1, 0.95, 0.9, 0.85, 0.8} (codes clamped to -8..7) with the smallest squared error:
// a little clipping of the largest component buys a finer step for the other 127.
// resid/rscales: the same layout holding a 4-bit code of each block's remaining error
// x - x̂ (scale max|x - x̂|/7.5), the second tier of exactTopK: x̂ + r̂ is close to an 8-bit code.
// err[r] = ‖x_r − x̂_r‖₂ and err2[r] = ‖x_r − x̂_r − r̂_r‖₂, rounded up; they bound the scores'
// errors (exact_core).
static const float SCALE_TRIES[] = {1.0f, 0.95f, 0.9f, 0.85f, 0.8f};

static inline int clamp4(long c) { return c < -8 ? -8 : c > 7 ? 7 : (int)c; }

// Σ (x − clamp(rint(x/s), -8, 7)·s)² over a block, in float (it only chooses among the scales;
// the chosen code's error is recomputed in double).
__attribute__((target("avx2,fma"))) static float block_sq_err_avx2(const float *xb, float s, float inv) {
  const __m256 vs = _mm256_set1_ps(s), vi = _mm256_set1_ps(inv), lo = _mm256_set1_ps(-8.0f), hi = _mm256_set1_ps(7.0f);
  __m256 acc = _mm256_setzero_ps();
  for (int t = 0; t < BLOCK; t += 8) {
    const __m256 x = _mm256_loadu_ps(xb + t);
    const __m256 c = _mm256_min_ps(_mm256_max_ps(_mm256_round_ps(_mm256_mul_ps(x, vi), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), lo), hi);
    const __m256 e = _mm256_fnmadd_ps(c, vs, x);
    acc = _mm256_fmadd_ps(e, e, acc);
  }
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  return _mm_cvtss_f32(h);
}

static float block_sq_err_plain(const float *xb, float s, float inv) {
  float sq = 0;
  for (int t = 0; t < BLOCK; t++) {
    const float e = xb[t] - (float)clamp4(lrintf(xb[t] * inv)) * s;
    sq += e * e;
  }
  return sq;
}

// pack(half: Uint16Array (rows × d float16 bits), invNorm: Float32Array (rows), rows, d): the
// 4-bit codes of the unit rows f32(half) · invNorm.
static napi_value js_pack(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) return throw_range(env, "pack(half, invNorm, rows, d)");
  uint16_t *half;
  float *invNorm;
  size_t n, ni;
  if (!typed(env, argv[0], napi_uint16_array, (void **)&half, &n)) return throw_range(env, "pack: half must be a Uint16Array (float16 bits)");
  if (!typed(env, argv[1], napi_float32_array, (void **)&invNorm, &ni)) return throw_range(env, "pack: invNorm must be a Float32Array");
  int32_t rows, d;
  CHECK(napi_get_value_int32(env, argv[2], &rows));
  CHECK(napi_get_value_int32(env, argv[3], &d));
  if (rows < 0 || d <= 0 || (size_t)rows * d > n || (size_t)rows > ni) return throw_range(env, "pack: half is shorter than rows × d or invNorm than rows");
  const int blocks = (d + BLOCK - 1) / BLOCK;
  uint8_t *packed, *resid;
  float *scales, *rscales, *errs, *errs2;
  napi_value jp = new_typed(env, napi_uint8_array, (size_t)rows * blocks * BLOCK_BYTES, 1, (void **)&packed);
  napi_value js = new_typed(env, napi_float32_array, (size_t)rows * blocks, 4, (void **)&scales);
  napi_value je = new_typed(env, napi_float32_array, (size_t)rows, 4, (void **)&errs);
  napi_value jr = new_typed(env, napi_uint8_array, (size_t)rows * blocks * BLOCK_BYTES, 1, (void **)&resid);
  napi_value jrs = new_typed(env, napi_float32_array, (size_t)rows * blocks, 4, (void **)&rscales);
  napi_value je2 = new_typed(env, napi_float32_array, (size_t)rows, 4, (void **)&errs2);
  if (!jp || !js || !je || !jr || !jrs || !je2) return throw_range(env, "pack: out of memory");
  float xb[BLOCK];
  double eb[BLOCK];
  int cb[BLOCK];
  float *x = malloc(sizeof(float) * (size_t)d);
  if (!x) return throw_range(env, "pack: out of memory");
  for (int32_t r = 0; r < rows; r++) {
    decode_row(half, invNorm, r, d, x);
    double e2 = 0, f2 = 0;
    for (int b = 0; b < blocks; b++) {
      const int base = b * BLOCK;
      float mx = 0;
      for (int t = 0; t < BLOCK; t++) {
        xb[t] = base + t < d ? x[base + t] : 0.0f;
        const float ax = fabsf(xb[t]);
        mx = ax > mx ? ax : mx;
      }
      float scale = 0;
      double best = INFINITY;
      for (size_t f = 0; f < sizeof SCALE_TRIES / sizeof SCALE_TRIES[0]; f++) {
        const float s = mx / 7.0f * SCALE_TRIES[f], inv = s > 0 ? 1.0f / s : 0.0f;
        const double sq = cpu_variant() != V_NONE ? block_sq_err_avx2(xb, s, inv) : block_sq_err_plain(xb, s, inv);
        if (sq < best) best = sq, scale = s;
      }
      const float inv = scale > 0 ? 1.0f / scale : 0.0f;
      double rmx = 0;
      for (int t = 0; t < BLOCK; t++) {
        cb[t] = clamp4(lrintf(xb[t] * inv));
        eb[t] = (double)xb[t] - (double)cb[t] * scale; /* padding dimensions: 0 - 0 */
        e2 += eb[t] * eb[t];
        const double ae = fabs(eb[t]);
        rmx = ae > rmx ? ae : rmx;
      }
      const float rs = (float)(rmx / 7.5), rinv = rs > 0 ? 1.0f / rs : 0.0f;
      int rc[BLOCK];
      for (int t = 0; t < BLOCK; t++) {
        rc[t] = clamp4(lrint(eb[t] * rinv));
        const double e = eb[t] - (double)rc[t] * rs;
        f2 += e * e;
      }
      scales[(size_t)r * blocks + b] = scale;
      rscales[(size_t)r * blocks + b] = rs;
      uint8_t *out = packed + ((size_t)r * blocks + b) * BLOCK_BYTES, *rout = resid + ((size_t)r * blocks + b) * BLOCK_BYTES;
      for (int i = 0; i < BLOCK_BYTES; i++) {
        const int tl = i < 32 ? i : i + 32, th = tl + 32;
        out[i] = (uint8_t)((cb[tl] + 8) | ((cb[th] + 8) << 4));
        rout[i] = (uint8_t)((rc[tl] + 8) | ((rc[th] + 8) << 4));
      }
    }
    // Rounded up so the bounds they give (exact_core) never undershoot.
    errs[r] = (float)(sqrt(e2) * (1 + 1e-6)) + 1e-7f;
    errs2[r] = (float)(sqrt(f2) * (1 + 1e-6)) + 1e-7f;
  }
  free(x);
  napi_value res, dp;
  CHECK(napi_create_object(env, &res));
  CHECK(napi_create_int32(env, blocks * BLOCK, &dp));
  CHECK(napi_set_named_property(env, res, "packed", jp));
  CHECK(napi_set_named_property(env, res, "scales", js));
  CHECK(napi_set_named_property(env, res, "err", je));
  CHECK(napi_set_named_property(env, res, "resid", jr));
  CHECK(napi_set_named_property(env, res, "rscales", jrs));
  CHECK(napi_set_named_property(env, res, "err2", je2));
  CHECK(napi_set_named_property(env, res, "dPad", dp));
  return res;
}

// The scan itself, free of N-API (it also runs on a libuv worker thread): the k best rows of
// `rows` against `query`, best first, into outRows / outScores (k <= rows). Returns 0, or -1
// when out of memory.
// With `all` set, every row's raw score (before the query scale) goes to all[r] instead, and the
// query's scale and the norm of its quantisation error go to *qscaleOut and *qerrOut.
/** The query's int8 codes in the packed block order (what scan_rows reads). */
typedef struct {
  int8_t *qa, *qb;
  int32_t *corr, *corr8;
  float scale;
  double err; /* ‖q − q̂‖₂ */
} qcodes_t;

static void free_codes(qcodes_t *q) {
  free(q->qa); free(q->qb); free(q->corr); free(q->corr8);
  q->qa = q->qb = NULL;
  q->corr = q->corr8 = NULL;
}

// Quantises the query to int8 (one scale) in the packed block order, with each lane's
// zero-point correction. Returns 0, or -1 when out of memory.
static int query_codes(const float *query, int32_t d, qcodes_t *q) {
  const int blocks = (d + BLOCK - 1) / BLOCK;
  float mx = 0;
  for (int i = 0; i < d; i++) mx = fmaxf(mx, fabsf(query[i]));
  const float qscale = mx / 127.0f, qinv = qscale > 0 ? 1.0f / qscale : 0.0f;
  int8_t *qa = aligned_alloc(64, (size_t)blocks * 64), *qb = aligned_alloc(64, (size_t)blocks * 64);
  int32_t *corr = aligned_alloc(64, (size_t)blocks * 16 * sizeof(int32_t));
  int32_t *corr8 = aligned_alloc(64, (size_t)blocks * 16 * sizeof(int32_t));
  *q = (qcodes_t){qa, qb, corr, corr8, qscale, 0};
  if (!qa || !qb || !corr || !corr8) {
    free_codes(q);
    return -1;
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
  double e2 = 0;
  for (int i = 0; i < d; i++) {
    const int b = i / BLOCK, o = i % BLOCK, half = o / 32;
    const int8_t code = (half == 0 || half == 2) ? qa[b * 64 + (half == 0 ? o : o - 32)] : qb[b * 64 + (half == 1 ? o - 32 : o - 64)];
    const double e = (double)query[i] - (double)code * qscale;
    e2 += e * e;
  }
  q->err = sqrt(e2);
  return 0;
}

// Runs fn(arg + t·size) for t < threads, t = 0 on the calling thread. Helpers start away from
// the calling thread's CPU: a new thread otherwise tends to queue on the CPU that created it
// (busy with the first share) while another sits idle.
static void run_shares(void *(*fn)(void *), char *arg, size_t size, int threads) {
  pthread_t tids[MAX_THREADS];
  int started[MAX_THREADS] = {0};
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  cpu_set_t others;
  CPU_ZERO(&others);
  const int me = sched_getcpu();
  if (me >= 0 && sched_getaffinity(0, sizeof others, &others) == 0 && CPU_ISSET(me, &others) && CPU_COUNT(&others) > 1) {
    CPU_CLR(me, &others);
    pthread_attr_setaffinity_np(&attr, sizeof others, &others);
  }
  for (int t = 1; t < threads; t++) started[t] = pthread_create(&tids[t], &attr, fn, arg + (size_t)t * size) == 0;
  pthread_attr_destroy(&attr);
  fn(arg);
  for (int t = 1; t < threads; t++) {
    if (started[t]) pthread_join(tids[t], NULL);
    else fn(arg + (size_t)t * size);
  }
}

// The scan itself, free of N-API (it also runs on a libuv worker thread): the k best rows of
// `rows` against `query`, best first, into outRows / outScores (k <= rows). Returns 0, or -1
// when out of memory.
static int scan_core(const uint8_t *packed, const float *scales, int32_t rows, int32_t d, const float *query, int32_t k,
                     int threads, int variant, int32_t *outRows, float *outScores) {
  const int blocks = (d + BLOCK - 1) / BLOCK;
  if (threads < 1) threads = 1;
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  if (rows < 4096 * threads) threads = rows >= 8192 ? 2 : 1;
  if (k <= 0) return 0;
  qcodes_t q;
  float *hs = malloc(sizeof(float) * (size_t)k * (threads + 1));
  int32_t *hr = malloc(sizeof(int32_t) * (size_t)k * (threads + 1));
  int rc = 0;
  if (query_codes(query, d, &q) != 0 || !hs || !hr) {
    rc = -1;
    goto done;
  }
  const float qscale = q.scale;
  const int8_t *qa = q.qa, *qb = q.qb;
  const int32_t *corr = q.corr, *corr8 = q.corr8;
  job_t jobs[MAX_THREADS];
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
    j->out = NULL;
  }
  run_shares(scan_thread, (char *)jobs, sizeof jobs[0], threads);
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
  free_codes(&q); free(hs); free(hr);
  return rc;
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
// q · x for the unit row x = f32(h) · inv (each x[j] rounded to float32, as decode_row writes it),
// summed in float32 with FMA in two 8-lane chains; the row is never written out. Both variants
// use it, so exact scores do not depend on the kernel and exactTopK's re-rank and dots() agree
// bit for bit.
__attribute__((target("avx2,fma,f16c"))) static float dot_half(const float *a, const uint16_t *h, float inv, int d) {
  const __m256 vi = _mm256_set1_ps(inv);
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int j = 0;
  for (; j + 16 <= d; j += 16) {
    const __m256 b0 = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + j))), vi);
    const __m256 b1 = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + j + 8))), vi);
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j), b0, s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 8), b1, s1);
  }
  for (; j + 8 <= d; j += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j), _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + j))), vi), s0);
  s0 = _mm256_add_ps(s0, s1);
  __m128 hs = _mm_add_ps(_mm256_castps256_ps128(s0), _mm256_extractf128_ps(s0, 1));
  hs = _mm_add_ps(hs, _mm_movehl_ps(hs, hs));
  hs = _mm_add_ss(hs, _mm_movehdup_ps(hs));
  float s = _mm_cvtss_f32(hs);
  for (; j < d; j++) {
    const float x = half_to_float(h[j]) * inv;
    s += a[j] * x;
  }
  return s;
}

// dots(q: Float32Array (qRows × d), qRows, d, half: Uint16Array (rows × d float16 bits), invNorm:
// Float32Array (rows), rows: Int32Array (qRows × per) | null, per) -> Float32Array (qRows × per):
// q[c] · x[rows[c·per + t]] for the unit rows x = f32(half) · invNorm; NaN for a row index
// outside the matrix (callers pass -1 for "none"). rows null: rows 0..per-1 for every query (the
// exhaustive exact scan of a few queries).
static int opt_typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *len);

static napi_value js_dots(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 7) return throw_range(env, "dots(q, qRows, d, half, invNorm, rows, per)");
  if (cpu_variant() == V_NONE) return throw_range(env, "dots: this CPU has neither AVX-512 VNNI nor AVX2 with FMA and F16C");
  float *q, *invNorm;
  uint16_t *half;
  int32_t *rows;
  size_t nq, nd, ni, nr;
  int32_t qRows, d, per;
  if (!typed(env, argv[0], napi_float32_array, (void **)&q, &nq)) return throw_range(env, "dots: q must be a Float32Array");
  if (!typed(env, argv[3], napi_uint16_array, (void **)&half, &nd)) return throw_range(env, "dots: half must be a Uint16Array (float16 bits)");
  if (!typed(env, argv[4], napi_float32_array, (void **)&invNorm, &ni)) return throw_range(env, "dots: invNorm must be a Float32Array");
  if (!opt_typed(env, argv[5], napi_int32_array, (void **)&rows, &nr)) return throw_range(env, "dots: rows must be an Int32Array or null");
  CHECK(napi_get_value_int32(env, argv[1], &qRows));
  CHECK(napi_get_value_int32(env, argv[2], &d));
  CHECK(napi_get_value_int32(env, argv[6], &per));
  if (qRows < 0 || d <= 0 || per < 0) return throw_range(env, "dots: qRows, d and per must be non-negative");
  if (nq < (size_t)qRows * d || (rows && nr < (size_t)qRows * per)) return throw_range(env, "dots: q or rows shorter than qRows");
  size_t dataRows = nd / (size_t)d;
  if (ni < dataRows) dataRows = ni;
  float *out;
  napi_value jo = new_typed(env, napi_float32_array, (size_t)qRows * per, 4, (void **)&out);
  if (!jo) return throw_range(env, "dots: out of memory");
  for (int32_t c = 0; c < qRows; c++) {
    for (int32_t t = 0; t < per; t++) {
      const int32_t r = rows ? rows[(size_t)c * per + t] : t;
      float v = NAN;
      if (r >= 0 && (size_t)r < dataRows) v = dot_half(q + (size_t)c * d, half + (size_t)r * d, invNorm[r], d);
      out[(size_t)c * per + t] = v;
    }
  }
  return jo;
}


// decode(half: Uint16Array (n × d float16 bits), invNorm: Float32Array (n), rows: Int32Array | null,
// start, count, d, out: Float32Array (count × d)): the unit rows rows[0..count) (or, without rows,
// start..start+count-1) into out, x[j] = f32(h[j]) · invNorm, each product rounded to float32 (the
// values decoder-matrix.ts decodes in JavaScript). Returns out.
static napi_value js_decode(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 7) return throw_range(env, "decode(half, invNorm, rows, start, count, d, out)");
  uint16_t *half;
  float *invNorm, *out;
  int32_t *rows = NULL;
  size_t nh, ni, nr = 0, no;
  int32_t start, count, d;
  if (!typed(env, argv[0], napi_uint16_array, (void **)&half, &nh)) return throw_range(env, "decode: half must be a Uint16Array (float16 bits)");
  if (!typed(env, argv[1], napi_float32_array, (void **)&invNorm, &ni)) return throw_range(env, "decode: invNorm must be a Float32Array");
  if (!opt_typed(env, argv[2], napi_int32_array, (void **)&rows, &nr)) return throw_range(env, "decode: rows must be an Int32Array or null");
  if (!typed(env, argv[6], napi_float32_array, (void **)&out, &no)) return throw_range(env, "decode: out must be a Float32Array");
  CHECK(napi_get_value_int32(env, argv[3], &start));
  CHECK(napi_get_value_int32(env, argv[4], &count));
  CHECK(napi_get_value_int32(env, argv[5], &d));
  if (d <= 0 || count < 0 || start < 0) return throw_range(env, "decode: d must be positive, start and count non-negative");
  size_t n = nh / (size_t)d;
  if (ni < n) n = ni;
  if (no < (size_t)count * d) return throw_range(env, "decode: out is shorter than count × d");
  if (rows ? nr < (size_t)count : (size_t)start + count > n) return throw_range(env, "decode: rows or start + count outside the matrix");
  for (int32_t t = 0; t < count; t++) {
    const int32_t r = rows ? rows[t] : start + t;
    if (r < 0 || (size_t)r >= n) return throw_range(env, "decode: a row is outside the matrix");
    decode_row(half, invNorm, r, d, out + (size_t)t * d);
  }
  return argv[6];
}

// ---- certified exact top-k ----
// Notation: x a unit row, q the query, q̂ its int8 code (one scale), x̂ the row's 4-bit code,
// r̂ the 4-bit code of its remaining error x − x̂ (pack), x̃ = x̂ + r̂; e1 = ‖x − x̂‖ (err4),
// e2 = ‖x − x̃‖ (err2), eq = ‖q − q̂‖ (computed per query), all rounded up.
// Bound argument. For any code y of x (y = x̂ or x̃, with error e = ‖x − y‖):
//   q·x − q̂·y = q·(x − y) + (q − q̂)·y,
// so by Cauchy–Schwarz on each term |q·x − q̂·y| ≤ ‖q‖·e + eq·‖y‖ ≤ ‖q‖·e + eq·(1 + e)
// (‖y‖ ≤ ‖x‖ + ‖x − y‖ = 1 + e). q̂·y is what the scan computes: integer sums per block (exact in
// int32), times the block scales, summed in float32; that rounding, and the float32 rounding of
// the exact dot product the answer is ranked by, stay below d·eps·max(‖q‖, 1) each, so
//   slack = 2·d·eps·max(‖q‖, 1)
// covers both. Hence q·x ≤ q̂·y + ‖q‖·e + eq·(1 + e) + slack: an upper bound for the row's exact
// (float32) score. A row whose upper bound is below the k-th best exact score found so far cannot
// enter the top k (ties: a row equal to the k-th is kept, `u >= t`, so the lower index still
// wins), so re-ranking every other row exactly gives the exact top k.
// Three tiers, each bound from the same argument:
//   1. every row: y = x̂ (the 4-bit scan), e = e1 (~0.1 for d = 768; ~30-40% of rows pass);
//   2. rows passing 1: y = x̃, adding the residual scan q̂·r̂ (same kernel, same query codes,
//      half the bytes of an int8 row), e = e2 (~0.01, dominated by eq);
//   3. rows passing 2: the float32 dot product, into the top k.
// The k-th threshold starts as the k-th exact score of the best c0 tier-1 bounds (re-ranked
// first), and each thread's share tightens it with its own top k as it goes.
typedef struct {
  const uint8_t *packed;
  const float *scales, *err4;
  const uint8_t *resid; /* optional: the residual codes (tier 2) */
  const float *rscales, *err2;
  const uint16_t *half; /* rows × d float16 bits; the unit row is f32(half) · invNorm */
  const float *invNorm, *query;
  int32_t rows, d, k, exclude, threads, variant;
  int32_t *outRows;
  float *outScores;
  int32_t found, reranked, screened;
} exact_args_t;

// One row's raw 4-bit score (before the query scale) against the query codes, as scan_rows computes it.
__attribute__((target("avx512f,avx512bw,avx512vnni"))) static float row_dot512(const uint8_t *p, const float *sc, int blocks, const qcodes_t *q) {
  __m512 acc = _mm512_setzero_ps();
  for (int b = 0; b < blocks; b++)
    acc = block_dot(p + b * BLOCK_BYTES, _mm512_loadu_si512((const void *)(q->qa + b * 64)), _mm512_loadu_si512((const void *)(q->qb + b * 64)),
                    _mm512_loadu_si512((const void *)(q->corr + b * 16)), sc[b], acc);
  return _mm512_reduce_add_ps(acc);
}

__attribute__((target("avx2,fma"))) static float row_dot256(const uint8_t *p, const float *sc, int blocks, const qcodes_t *q) {
  __m256 acc = _mm256_setzero_ps();
  for (int b = 0; b < blocks; b++) {
    const uint8_t *pb = p + b * BLOCK_BYTES;
    const int8_t *qa = q->qa + b * 64, *qb = q->qb + b * 64;
    __m256i s = _mm256_add_epi32(half_dot(_mm256_loadu_si256((const void *)pb), qa, qb), half_dot(_mm256_loadu_si256((const void *)(pb + 32)), qa + 32, qb + 32));
    s = _mm256_add_epi32(s, _mm256_loadu_si256((const void *)(q->corr8 + b * 8)));
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(sc[b]), acc);
  }
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  return _mm_cvtss_f32(h);
}

// One thread's share of exactTopK, rows [row0, row1): the 4-bit scan of the share (tier 1),
// its best c0 upper bounds re-ranked exactly, then tiers 2 and 3 over the rest. The threshold
// t is the k-th largest exact score among this share's top k and the snapshots of the other
// shares' first top k (published once their first candidates are re-ranked, read without
// waiting): all are exact scores of distinct rows, so their k-th largest is at most the overall
// k-th, a valid threshold for every share.
typedef struct share_job share_job_t;
struct share_job {
  const exact_args_t *a;
  const qcodes_t *q;
  float qe, qn, slack;
  share_job_t *all; /* every share, for the snapshots */
  int threads;
  float *raw, *u;   /* the whole matrix's arrays; this share writes its rows */
  int32_t c0, row0, row1, reranked, screened, rc;
  heap_t top;
  float *snap;      /* k floats: this share's top k after its first candidates */
  int32_t snapN, ready;
};

#define PREFETCH_AHEAD 12

static int by_desc(const void *x, const void *y) {
  const float a = *(const float *)x, b = *(const float *)y;
  return a < b ? 1 : a > b ? -1 : 0;
}

// The k-th largest of this share's current top scores and the published snapshots, into *t;
// returns how many shares' snapshots it counted.
static int union_kth(share_job_t *j, float *buf, float *t) {
  int n = 0, seen = 0;
  for (int i = 0; i < j->top.size; i++) buf[n++] = j->top.score[i];
  for (int s = 0; s < j->threads; s++) {
    share_job_t *o = &j->all[s];
    if (o == j || !__atomic_load_n(&o->ready, __ATOMIC_ACQUIRE)) continue;
    seen++;
    for (int i = 0; i < o->snapN; i++) buf[n++] = o->snap[i];
  }
  const int k = j->top.cap;
  if (n >= k) {
    qsort(buf, n, sizeof(float), by_desc);
    if (buf[k - 1] > *t) *t = buf[k - 1];
  }
  return seen;
}

static void exact_share(share_job_t *j) {
  const exact_args_t *a = j->a;
  const int32_t d = a->d, r0 = j->row0, r1 = j->row1, k = j->top.cap;
  const int blocks = (d + BLOCK - 1) / BLOCK;
  const size_t rowBytes = (size_t)blocks * BLOCK_BYTES;
  const int wide = a->variant == V_AVX512VNNI;
  const qcodes_t *q = j->q;
  const int32_t c0 = j->c0 < r1 - r0 ? j->c0 : r1 - r0;
  float *cs = malloc(sizeof(float) * (size_t)(c0 > 0 ? c0 : 1)), *buf = malloc(sizeof(float) * (size_t)k * j->threads);
  int32_t *cr = malloc(sizeof(int32_t) * (size_t)(c0 > 0 ? c0 : 1)), *list = malloc(sizeof(int32_t) * (size_t)(r1 > r0 ? r1 - r0 : 1));
  if (!cs || !cr || !buf || !list) {
    j->rc = -1;
    goto done;
  }
  if (r0 >= r1) goto done;
  // Tier 1: raw 4-bit scores of the share, then their upper bounds.
  job_t scan = {a->packed, a->scales, blocks, r0, r1, q->qa, q->qb, q->corr, q->corr8, a->variant, {NULL, NULL, 0, 0}, j->raw};
  run_job(&scan);
  const float qs = q->scale, qn = j->qn, qe = j->qe, slack = j->slack;
  float *u = j->u;
  for (int32_t r = r0; r < r1; r++) u[r] = j->raw[r] * qs + qn * a->err4[r] + qe * (1 + a->err4[r]) + slack;
  // First candidates: the share's best c0 upper bounds, re-ranked exactly, and their top k published.
  heap_t cand = {cs, cr, 0, c0};
  for (int32_t r = r0; r < r1; r++) heap_offer(&cand, u[r], r);
  for (int i = 0; i < cand.size; i++) {
    const int32_t r = cand.row[i];
    u[r] = NAN;
    if (r == a->exclude) continue;
    heap_offer(&j->top, dot_half(a->query, a->half + (size_t)r * d, a->invNorm[r], d), r);
    j->reranked++;
  }
  memcpy(j->snap, j->top.score, sizeof(float) * (size_t)j->top.size);
  j->snapN = j->top.size;
  __atomic_store_n(&j->ready, 1, __ATOMIC_RELEASE);
  float ut = -INFINITY;
  int seen = union_kth(j, buf, &ut);
  // Tiers 2 and 3, over the rows whose tier-1 bound reaches the threshold so far (listed first,
  // in row order, so their residual codes can be prefetched a few rows ahead).
  {
    const float kth = j->top.size < k ? -INFINITY : j->top.score[0];
    const float t = kth > ut ? kth : ut;
    int32_t n = 0;
    for (int32_t r = r0; r < r1; r++) if (u[r] >= t && r != a->exclude) list[n++] = r; /* NaN: re-ranked already */
    for (int32_t i = 0; i < n; i++) {
      const int32_t r = list[i];
      if ((i & 255) == 0 && seen < j->threads - 1) seen = union_kth(j, buf, &ut);
      const float kth2 = j->top.size < k ? -INFINITY : j->top.score[0];
      const float t2 = kth2 > ut ? kth2 : ut;
      if (a->resid && i + PREFETCH_AHEAD < n) {
        // The row's residual codes, its residual scales and error bound: all random reads.
        const int32_t ra = list[i + PREFETCH_AHEAD];
        const char *p = (const char *)(a->resid + (size_t)ra * rowBytes);
        for (size_t o = 0; o < rowBytes; o += 64) __builtin_prefetch(p + o, 0, 0);
        __builtin_prefetch(a->rscales + (size_t)ra * blocks, 0, 0);
        __builtin_prefetch(a->rscales + (size_t)ra * blocks + blocks - 1, 0, 0);
        __builtin_prefetch(a->err2 + ra, 0, 0);
      }
      if (!(u[r] >= t2)) continue;
      if (a->resid) {
        const uint8_t *p = a->resid + (size_t)r * rowBytes;
        const float *sc = a->rscales + (size_t)r * blocks;
        const float rr = wide ? row_dot512(p, sc, blocks, q) : row_dot256(p, sc, blocks, q);
        const float e = a->err2[r];
        if ((j->raw[r] + rr) * qs + qn * e + qe * (1 + e) + slack < t2) {
          j->screened++;
          continue;
        }
      }
      heap_offer(&j->top, dot_half(a->query, a->half + (size_t)r * d, a->invNorm[r], d), r);
      j->reranked++;
    }
  }
done:
  free(cs); free(cr); free(buf); free(list);
  /* A share that failed or had no rows still counts as published (with nothing in it). */
  __atomic_store_n(&j->ready, 1, __ATOMIC_RELEASE);
}

static void *share_thread(void *arg) {
  exact_share((share_job_t *)arg);
  return NULL;
}

static int exact_core(exact_args_t *a) {
  const int32_t rows = a->rows, d = a->d, k = a->k;
  a->found = a->reranked = a->screened = 0;
  if (k <= 0 || rows == 0) return 0;
  int threads = a->threads < 1 ? 1 : a->threads > MAX_THREADS ? MAX_THREADS : a->threads;
  if (rows < 4096 * threads) threads = rows >= 8192 ? 2 : 1;
  float *u = malloc(sizeof(float) * (size_t)rows), *raw = malloc(sizeof(float) * (size_t)rows);
  // Per share: its best k + 1 + max(64, 2k) bounds go first (the old fixed overfetch, split).
  const int32_t over = 2 * k > 64 ? 2 * k : 64;
  const int32_t c0 = (k + 1 + over + threads - 1) / threads + k;
  const size_t heapCells = (size_t)k * (threads + 1);
  float *hs = malloc(sizeof(float) * heapCells), *snaps = malloc(sizeof(float) * (size_t)k * threads);
  int32_t *hr = malloc(sizeof(int32_t) * heapCells);
  qcodes_t q = {0};
  int rc = -1;
  if (!u || !raw || !hs || !hr || !snaps || query_codes(a->query, d, &q) != 0) goto out;
  double qn2 = 0;
  for (int j = 0; j < d; j++) qn2 += (double)a->query[j] * a->query[j];
  // Rounded up, as err4 and err2 are.
  const float qn = (float)(sqrt(qn2) * (1 + 1e-6)), qe = (float)(q.err * (1 + 1e-6)) + 1e-7f;
  const float slack = 2.0f * (float)d * FLT_EPSILON * (qn > 1 ? qn : 1);
  share_job_t jobs[MAX_THREADS];
  const int32_t per = (rows + threads - 1) / threads;
  for (int t = 0; t < threads; t++)
    jobs[t] = (share_job_t){a, &q, qe, qn, slack, jobs, threads, raw, u, c0, t * per < rows ? t * per : rows, (t + 1) * per < rows ? (t + 1) * per : rows, 0, 0, 0,
                            (heap_t){hs + (size_t)k * (t + 1), hr + (size_t)k * (t + 1), 0, k}, snaps + (size_t)k * t, 0, 0};
  run_shares(share_thread, (char *)jobs, sizeof jobs[0], threads);
  // The shares' top k merged (disjoint rows).
  heap_t top = {hs, hr, 0, k};
  for (int t = 0; t < threads; t++) {
    if (jobs[t].rc != 0) goto out;
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
  free(u); free(raw); free(hs); free(hr); free(snaps);
  free_codes(&q);
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
  napi_ref refs[8];
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
  for (int i = 0; i < 8; i++)
    if (s->refs[i]) napi_delete_reference(env, s->refs[i]);
  napi_delete_async_work(env, s->work);
  free((void *)s->a.query);
  free(s->a.outRows);
  free(s->a.outScores);
  free(s);
}

// exactTopK(packed, scales, err4, resid|null, rscales|null, err2|null, half, invNorm, rows, d, query, k, exclude, threads, async[, variant])
//   -> { rows, scores, reranked, screened } (a Promise when async): the exact top k rows by
// float32 dot product of the unit rows f32(half) · invNorm with query (dot_half) (ties to the lower row), leaving out row `exclude` (-1: none).
// variant ("avx2") asks for the kernel below the best one, as scan's does (tests compare them).
static napi_value js_exact(napi_env env, napi_callback_info info) {
  size_t argc = 16;
  napi_value argv[16];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 15) return throw_range(env, "exactTopK(packed, scales, err4, resid, rscales, err2, half, invNorm, rows, d, query, k, exclude, threads, async[, variant])");
  exact_args_t a = {0};
  a.variant = cpu_variant();
  if (a.variant == V_NONE) return throw_range(env, "exactTopK: this CPU has neither AVX-512 VNNI nor AVX2 with FMA and F16C");
  napi_valuetype vt = napi_undefined;
  if (argc >= 16 && napi_typeof(env, argv[15], &vt) == napi_ok && vt == napi_string) {
    char want[16];
    size_t len;
    if (napi_get_value_string_utf8(env, argv[15], want, sizeof want, &len) != napi_ok) return NULL;
    if (strcmp(want, "avx2") == 0) a.variant = V_AVX2;
    else if (strcmp(want, VARIANT_NAMES[a.variant]) != 0) return throw_range(env, "exactTopK: unknown or unsupported variant");
  }
  size_t np, ns, ne, nc, n8, ne8, nd, ni, nq;
  bool isAsync = false;
  if (!typed(env, argv[0], napi_uint8_array, (void **)&a.packed, &np) || !typed(env, argv[1], napi_float32_array, (void **)&a.scales, &ns) ||
      !typed(env, argv[2], napi_float32_array, (void **)&a.err4, &ne) || !opt_typed(env, argv[3], napi_uint8_array, (void **)&a.resid, &nc) ||
      !opt_typed(env, argv[4], napi_float32_array, (void **)&a.rscales, &n8) || !opt_typed(env, argv[5], napi_float32_array, (void **)&a.err2, &ne8) ||
      !typed(env, argv[6], napi_uint16_array, (void **)&a.half, &nd) || !typed(env, argv[7], napi_float32_array, (void **)&a.invNorm, &ni) ||
      !typed(env, argv[10], napi_float32_array, (void **)&a.query, &nq))
    return throw_range(env, "exactTopK: packed, resid Uint8Array; half Uint16Array; scales, err4, rscales, err2, invNorm, query Float32Array");
  if (napi_get_value_int32(env, argv[8], &a.rows) != napi_ok || napi_get_value_int32(env, argv[9], &a.d) != napi_ok ||
      napi_get_value_int32(env, argv[11], &a.k) != napi_ok || napi_get_value_int32(env, argv[12], &a.exclude) != napi_ok ||
      napi_get_value_int32(env, argv[13], &a.threads) != napi_ok || napi_get_value_bool(env, argv[14], &isAsync) != napi_ok)
    return throw_range(env, "exactTopK: rows, d, k, exclude, threads must be numbers and async a boolean");
  if (a.rows < 0 || a.d <= 0 || a.k < 0) return throw_range(env, "exactTopK: rows, d and k must be non-negative");
  const int blocks = (a.d + BLOCK - 1) / BLOCK;
  const size_t cells = (size_t)a.rows * a.d;
  if (np < (size_t)a.rows * blocks * BLOCK_BYTES || ns < (size_t)a.rows * blocks || ne < (size_t)a.rows || nd < cells || ni < (size_t)a.rows || nq < (size_t)a.d)
    return throw_range(env, "exactTopK: an array is shorter than rows");
  if (a.resid && (nc < np || nc < (size_t)a.rows * blocks * BLOCK_BYTES || !a.rscales || !a.err2 || n8 < (size_t)a.rows * blocks || ne8 < (size_t)a.rows))
    return throw_range(env, "exactTopK: resid, rscales and err2 must cover every row");
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
  const int held[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  for (int i = 0; i < 8; i++) {
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
      {"decode", NULL, js_decode, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, 7, props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(scan4, init)
