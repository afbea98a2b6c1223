// decode_kernels.node: the decode stage's native fast path (src/stages/decode/native-decode.ts
// loads it; built by scripts/decode/build-native.sh, run by `npm run setup`).
//
// Why: sharp spends ~1.2 ms of libvips pipeline setup on every image however small, ~3.3 ms for a
// 256 px JPEG decoded and resized to 224, and on a 2-core machine that comes straight out of the
// model's time. JPEG cannot be decoded in JavaScript with libjpeg-turbo's exact IDCT and
// upsampling, and the resize's inner loop, in JavaScript, cost as much again.
//
// What:
//   jpegHeader(bytes) -> { width, height, components, colour, orientation, icc } | null
//       what libjpeg reads before decoding, plus the EXIF orientation and whether an ICC profile
//       is embedded (sharp applies both); null when libjpeg cannot read the header.
//   decodeJpeg(bytes, shrink, maxPixels, out?) -> { width, height, channels, data } | null
//       8-bit grey or RGB at 1/shrink scale (libjpeg's DCT scaling, as libvips' jpegload
//       `shrink`, sizes rounded down as libvips does); null on any error or warning (damaged or
//       truncated data), on CMYK/YCCK, or when the image declares more than maxPixels: sharp
//       then decides, with its own message. `data` is a view of `out` when out is a Uint8Array
//       large enough (a caller's scratch it reuses), else new.
//   reduceLines(src, lineLength, inputs, masks, taps) -> Uint8Array
//       the inner loop of vips-reduce.ts's reduceLines: output line o is sum_i masks[o taps + i]
//       * line inputs[o taps + i] of src, rounded (+2048 >> 12) and clipped to 0..255.
//   reduceImage(src, width, height, channels, rowInputs, rowMasks, rowTaps, columnInputs,
//       columnMasks, columnTaps, out?) -> Uint8Array: rows reduced, then columns, in one call
//       (a view of out, as decodeJpeg's)
//   transpose(src, width, height, channels) -> Uint8Array (height x width pixels)
//   normalise(src, channels, gain, shift, planar, out?) -> Float32Array (out, when given)
//       normalise-pixels.ts: value = byte gain[c] + shift[c] in double, rounded once to float32
//       (so bit for bit the JavaScript's), interleaved (HWC) or planar (CHW).
//   inflatePng(png, parts, height, stride, bpp, out?) -> Uint8Array | null
//       simple-png.ts's inflate and unfilter in one call: the zlib stream of a PNG's IDAT chunks
//       (parts: Int32Array of start, length pairs in png) joined outside the JavaScript heap,
//       inflated with libdeflate (about 1.5x node's zlib on a 64 KiB noise PNG, and no output
//       chunks to join), then PNG's row filters undone into height x stride bytes (a view of out,
//       as decodeJpeg's). null unless the stream inflates to exactly height x (stride + 1) bytes
//       with a valid Adler-32 and every row has a defined filter type: the JavaScript path's rules.
//   crc32(bytes, start, length) -> number: CRC-32 of bytes[start, start + length) (libdeflate's:
//       ~3x node's zlib.crc32 and its subarray on an 8 KiB chunk).
//
// libjpeg-turbo here is Debian's (libjpeg62-turbo); sharp bundles mozjpeg, whose decoder is
// libjpeg-turbo's: the same IDCT (ISLOW, the default), fancy upsampling and colour conversion, so
// both give the same bytes (test/stages/decode/fast-decode.spec.ts compares them).
#include <node_api.h>

#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <libdeflate.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX2_PATH 1
#endif

// ---- N-API plumbing --------------------------------------------------------------------------

static napi_value null_value(napi_env env) {
  napi_value v;
  napi_get_null(env, &v);
  return v;
}

static void set_uint(napi_env env, napi_value object, const char* name, uint32_t value) {
  napi_value v;
  napi_create_uint32(env, value, &v);
  napi_set_named_property(env, object, name, v);
}

static void set_bool(napi_env env, napi_value object, const char* name, int value) {
  napi_value v;
  napi_get_boolean(env, value != 0, &v);
  napi_set_named_property(env, object, name, v);
}

// Storage to point at for an empty typed array, which N-API gives none: callers read no byte of it.
static double empty_storage[1];

// The bytes of a typed array argument, or NULL (a TypeError is then pending).
static void* typed_array(napi_env env, napi_value value, napi_typedarray_type want, size_t* length) {
  bool is_typed = false;
  napi_is_typedarray(env, value, &is_typed);
  napi_typedarray_type type;
  void* data = NULL;
  if (is_typed) napi_get_typedarray_info(env, value, &type, length, &data, NULL, NULL);
  if (!is_typed || type != want) {
    napi_throw_type_error(env, "TS_ERR_DECODE_NATIVE_ARGUMENT", want == napi_uint8_array ? "expected a Uint8Array" : want == napi_int32_array ? "expected an Int32Array" : "expected a Float64Array");
    return NULL;
  }
  return data ? data : (void*)empty_storage;
}

static int int_argument(napi_env env, napi_value value, int32_t* out) {
  if (napi_get_value_int32(env, value, out) == napi_ok) return 1;
  napi_throw_type_error(env, "TS_ERR_DECODE_NATIVE_ARGUMENT", "expected an integer");
  return 0;
}

// A new Uint8Array of `length` bytes; *bytes points at its storage.
static napi_value new_bytes(napi_env env, size_t length, uint8_t** bytes) {
  napi_value buffer, array;
  if (napi_create_arraybuffer(env, length, (void**)bytes, &buffer) != napi_ok) return NULL;
  napi_create_typedarray(env, napi_uint8_array, length, buffer, 0, &array);
  return array;
}

// A Uint8Array of `length` bytes written at *bytes: a view of `given` (a Uint8Array the caller
// reuses, so V8 sees no new backing store) when it is one and holds that many, else a new one.
static napi_value output_bytes(napi_env env, napi_value given, size_t length, uint8_t** bytes) {
  napi_valuetype type = napi_undefined;
  bool is_typed = false;
  if (given && napi_typeof(env, given, &type) == napi_ok && type == napi_object && napi_is_typedarray(env, given, &is_typed) == napi_ok && is_typed) {
    napi_typedarray_type kind;
    size_t capacity = 0, offset = 0;
    void* data = NULL;
    napi_value buffer, view;
    if (napi_get_typedarray_info(env, given, &kind, &capacity, &data, &buffer, &offset) == napi_ok && kind == napi_uint8_array && capacity >= length &&
        napi_create_typedarray(env, napi_uint8_array, length, buffer, offset, &view) == napi_ok) {
      *bytes = data;
      return view;
    }
  }
  return new_bytes(env, length, bytes);
}

// ---- JPEG ------------------------------------------------------------------------------------

// libjpeg reports errors by calling error_exit, which must not return: jump back to the caller.
// Warnings (corrupt or truncated data it decodes past) are counted, never printed.
typedef struct {
  struct jpeg_error_mgr manager;
  jmp_buf escape;
} ErrorTrap;

static void on_error(j_common_ptr cinfo) { longjmp(((ErrorTrap*)cinfo->err)->escape, 1); }

static void on_message(j_common_ptr cinfo, int level) {
  if (level < 0) cinfo->err->num_warnings++;
}

static uint32_t read16(const uint8_t* p, int big_endian) { return big_endian ? (uint32_t)(p[0] << 8 | p[1]) : (uint32_t)(p[1] << 8 | p[0]); }

static uint32_t read32(const uint8_t* p, int big_endian) {
  return big_endian ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

// The Orientation tag (0x0112) of IFD0 in an APP1 "Exif" block: 1 when absent, 0 when the block
// cannot be read (libvips might then read it otherwise: the caller leaves the image to sharp).
static int exif_orientation(const uint8_t* data, size_t length) {
  if (length < 14 || memcmp(data, "Exif\0\0", 6) != 0) return 1;
  const uint8_t* tiff = data + 6;
  size_t size = length - 6;
  int big_endian;
  if (memcmp(tiff, "MM\0*", 4) == 0) big_endian = 1;
  else if (memcmp(tiff, "II*\0", 4) == 0) big_endian = 0;
  else return 0;
  uint32_t ifd = read32(tiff + 4, big_endian);
  if (ifd < 8 || ifd > size - 2) return 0;
  uint32_t entries = read16(tiff + ifd, big_endian);
  if ((size_t)ifd + 2 + (size_t)entries * 12 > size) return 0;
  for (uint32_t e = 0; e < entries; e++) {
    const uint8_t* entry = tiff + ifd + 2 + e * 12;
    if (read16(entry, big_endian) != 0x0112) continue;
    if (read16(entry + 2, big_endian) != 3 || read32(entry + 4, big_endian) != 1) return 0;  // one SHORT
    uint32_t value = read16(entry + 8, big_endian);
    return value >= 1 && value <= 8 ? (int)value : 0;
  }
  return 1;
}

static const char* colour_name(J_COLOR_SPACE space) {
  switch (space) {
    case JCS_GRAYSCALE: return "grey";
    case JCS_YCbCr: return "ycbcr";
    case JCS_RGB: return "rgb";
    case JCS_CMYK: return "cmyk";
    case JCS_YCCK: return "ycck";
    default: return "other";
  }
}

static napi_value jpeg_header(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  size_t length = 0;
  const uint8_t* bytes = typed_array(env, argv[0], napi_uint8_array, &length);
  if (!bytes) return NULL;

  struct jpeg_decompress_struct cinfo;
  ErrorTrap trap;
  cinfo.err = jpeg_std_error(&trap.manager);
  trap.manager.error_exit = on_error;
  trap.manager.emit_message = on_message;
  if (setjmp(trap.escape)) {
    jpeg_destroy_decompress(&cinfo);
    return null_value(env);
  }
  jpeg_create_decompress(&cinfo);
  jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xffff);
  jpeg_save_markers(&cinfo, JPEG_APP0 + 2, 0xffff);
  jpeg_mem_src(&cinfo, bytes, (unsigned long)length);
  jpeg_read_header(&cinfo, TRUE);

  // libvips takes the first APP1 that starts "Exif" (jpeg2vips.c), and sees an ICC profile in
  // any APP2 "ICC_PROFILE" chunk.
  int orientation = 1, exif_seen = 0, icc = 0;
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m; m = m->next) {
    if (m->marker == JPEG_APP0 + 1 && !exif_seen && m->data_length >= 6 && memcmp(m->data, "Exif\0\0", 6) == 0) {
      exif_seen = 1;
      orientation = exif_orientation(m->data, m->data_length);
    } else if (m->marker == JPEG_APP0 + 2 && m->data_length >= 12 && memcmp(m->data, "ICC_PROFILE\0", 12) == 0) {
      icc = 1;
    }
  }
  napi_value result, colour;
  napi_create_object(env, &result);
  set_uint(env, result, "width", cinfo.image_width);
  set_uint(env, result, "height", cinfo.image_height);
  set_uint(env, result, "components", (uint32_t)cinfo.num_components);
  napi_create_string_utf8(env, colour_name(cinfo.jpeg_color_space), NAPI_AUTO_LENGTH, &colour);
  napi_set_named_property(env, result, "colour", colour);
  set_uint(env, result, "orientation", (uint32_t)orientation);
  set_bool(env, result, "icc", icc);
  jpeg_destroy_decompress(&cinfo);
  return result;
}

static napi_value decode_jpeg(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4] = {NULL, NULL, NULL, NULL};
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  size_t length = 0;
  int32_t shrink, max_pixels;
  const uint8_t* bytes = typed_array(env, argv[0], napi_uint8_array, &length);
  if (!bytes || !int_argument(env, argv[1], &shrink) || !int_argument(env, argv[2], &max_pixels)) return NULL;
  if (shrink != 1 && shrink != 2 && shrink != 4 && shrink != 8) {
    napi_throw_range_error(env, "TS_ERR_DECODE_NATIVE_ARGUMENT", "shrink must be 1, 2, 4 or 8");
    return NULL;
  }

  struct jpeg_decompress_struct cinfo;
  ErrorTrap trap;
  // volatile: freed after a longjmp out of libjpeg.
  JSAMPLE* volatile line = NULL;
  cinfo.err = jpeg_std_error(&trap.manager);
  trap.manager.error_exit = on_error;
  trap.manager.emit_message = on_message;
  if (setjmp(trap.escape)) {
    free(line);
    jpeg_destroy_decompress(&cinfo);
    return null_value(env);
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes, (unsigned long)length);
  jpeg_read_header(&cinfo, TRUE);
  int grey = cinfo.jpeg_color_space == JCS_GRAYSCALE;
  int colour = cinfo.jpeg_color_space == JCS_YCbCr || cinfo.jpeg_color_space == JCS_RGB;
  if ((!grey && !colour) || (double)cinfo.image_width * cinfo.image_height > (double)max_pixels || trap.manager.num_warnings > 0) {
    jpeg_destroy_decompress(&cinfo);
    return null_value(env);
  }
  cinfo.out_color_space = grey ? JCS_GRAYSCALE : JCS_RGB;
  cinfo.scale_num = 1;
  cinfo.scale_denom = (unsigned int)shrink;
  jpeg_start_decompress(&cinfo);
  // libjpeg rounds a scaled size up and fills the part pixel at the far edges; libvips keeps
  // image size / shrink rounded down (jpeg2vips.c), so the extra column and row are dropped. All
  // rows are still read, so a warning at the very end is seen.
  uint32_t width = cinfo.image_width / (uint32_t)shrink, height = cinfo.image_height / (uint32_t)shrink;
  size_t components = (size_t)cinfo.output_components;
  size_t stride = (size_t)width * components, scan = (size_t)cinfo.output_width * components;
  uint8_t* out = NULL;
  napi_value data = width > 0 && height > 0 ? output_bytes(env, argc > 3 ? argv[3] : NULL, stride * height, &out) : NULL;
  line = data ? malloc(scan) : NULL;
  if (!line) {
    jpeg_destroy_decompress(&cinfo);
    return null_value(env);
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    uint32_t y = cinfo.output_scanline;
    JSAMPROW row = line;
    if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) break;
    if (y < height) memcpy(out + stride * y, line, stride);
  }
  jpeg_finish_decompress(&cinfo);
  free(line);
  line = NULL;
  napi_value result = NULL;
  if (trap.manager.num_warnings == 0) {
    napi_value object;
    napi_create_object(env, &object);
    set_uint(env, object, "width", width);
    set_uint(env, object, "height", height);
    set_uint(env, object, "channels", (uint32_t)components);
    napi_set_named_property(env, object, "data", data);
    result = object;
  }
  jpeg_destroy_decompress(&cinfo);
  return result ? result : null_value(env);
}

// ---- resize ----------------------------------------------------------------------------------

#define INTERPOLATE_SHIFT 12

// The hot loops, compiled for AVX-512, AVX2 and plain x86-64 (the CPU picks at load): without
// AVX2 there is no packed 32-bit multiply, and the loop runs one sample at a time.
#if defined(__x86_64__) && defined(__GNUC__)
#define HOT_LOOP __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define HOT_LOOP
#endif

// Inlined into the HOT_LOOP functions that call them, so compiled for each of their targets: a
// call per tap and line through the clone dispatch cost more than a short line's sums (a 45 px
// image reduced to 28 px makes ~600 such calls).
#define INLINE_LOOP static inline __attribute__((always_inline))

INLINE_LOOP void add_weighted(int32_t* restrict sums, const uint8_t* restrict line, int32_t weight, int32_t length) {
  for (int32_t x = 0; x < length; x++) sums[x] += weight * line[x];
}

INLINE_LOOP void round_and_clip(uint8_t* restrict target, const int32_t* restrict sums, int32_t length) {
  for (int32_t x = 0; x < length; x++) {
    int32_t v = sums[x] >> INTERPOLATE_SHIFT;
    target[x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
  }
}

// One axis of a reduce: `taps` input lines and mask weights for each of `to` output lines.
typedef struct {
  const int32_t* inputs;
  const int32_t* masks;
  int32_t taps;
  size_t to;
} Axis;

// The axis from (inputs, masks, taps) arguments, checked against a source of `lines` lines; 0
// with a RangeError pending when they do not fit.
static int read_axis(napi_env env, napi_value* argv, size_t lines, const char* name, Axis* axis) {
  size_t inputs_length = 0, masks_length = 0;
  axis->inputs = typed_array(env, argv[0], napi_int32_array, &inputs_length);
  if (!axis->inputs) return 0;
  axis->masks = typed_array(env, argv[1], napi_int32_array, &masks_length);
  if (!axis->masks || !int_argument(env, argv[2], &axis->taps)) return 0;
  char message[160];
  if (axis->taps <= 0 || inputs_length != masks_length || inputs_length % (size_t)axis->taps != 0) {
    snprintf(message, sizeof message, "%s: inputs and masks must be `taps` entries per output line", name);
    napi_throw_range_error(env, "TS_ERR_DECODE_NATIVE_ARGUMENT", message);
    return 0;
  }
  for (size_t i = 0; i < inputs_length; i++) {
    if (axis->inputs[i] < 0 || (size_t)axis->inputs[i] >= lines) {
      snprintf(message, sizeof message, "%s: an input line is outside the source", name);
      napi_throw_range_error(env, "TS_ERR_DECODE_NATIVE_ARGUMENT", message);
      return 0;
    }
  }
  axis->to = inputs_length / (size_t)axis->taps;
  return 1;
}

#ifdef HAVE_AVX2_PATH
// reduce_lines_into's output line for samples [0, end), end a multiple of 16, 16 at a time and
// two taps per multiply: the two input lines' bytes interleaved as 16-bit pairs, times the pair of
// weights (vpmaddwd), summed in registers across all taps, then rounded, clipped and stored as
// reduce_lines_into's loop does. The compiler's version multiplies one tap at a time in 32 bits and
// keeps the sums in memory, ~3x the instructions. Integer sums, so the same bytes. At most
// AVX2_MAX_TAPS taps; 0 (nothing written) when a weight does not fit in 16 bits, which reduce
// masks summing to 4096 always do, so only a pathological caller's line takes the scalar loop.
#define AVX2_MAX_TAPS 64
__attribute__((target("avx2"))) static int reduce_line_avx2(uint8_t* line_out, const uint8_t* src, size_t line_length, const int32_t* inputs,
                                                              const int32_t* masks, int32_t taps, size_t end) {
  // The line's input rows and weight pairs, once for all its samples; an odd last tap is paired
  // with itself at weight 0.
  const uint8_t* lines[AVX2_MAX_TAPS + 1];
  __m256i pairs[AVX2_MAX_TAPS / 2 + 1];
  if (taps <= 0) return 0;  // read_axis refuses those; this tells the compiler
  const int32_t pair_count = (taps + 1) / 2;
  for (int32_t i = 0; i < taps; i++) lines[i] = src + (size_t)inputs[i] * line_length;
  lines[taps] = lines[taps - 1];
  for (int32_t i = 0; i < taps; i++) {
    if (masks[i] < INT16_MIN || masks[i] > INT16_MAX) return 0;
  }
  for (int32_t p = 0; p < pair_count; p++) {
    const int32_t second = 2 * p + 1 < taps ? masks[2 * p + 1] : 0;
    pairs[p] = _mm256_set1_epi32((int32_t)((uint32_t)(uint16_t)(int16_t)masks[2 * p] | (uint32_t)(uint16_t)(int16_t)second << 16));
  }
  for (size_t x = 0; x < end; x += 16) {
    __m256i low = _mm256_set1_epi32(1 << (INTERPOLATE_SHIFT - 1)), high = low;
    for (int32_t p = 0; p < pair_count; p++) {
      __m128i a = _mm_loadu_si128((const __m128i*)(lines[2 * p] + x));
      __m128i b = _mm_loadu_si128((const __m128i*)(lines[2 * p + 1] + x));
      low = _mm256_add_epi32(low, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_unpacklo_epi8(a, b)), pairs[p]));
      high = _mm256_add_epi32(high, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_unpackhi_epi8(a, b)), pairs[p]));
    }
    // >> 12, then saturate to 16 and to 8 bits: the clip to 0..255 of round_and_clip.
    __m256i words = _mm256_packs_epi32(_mm256_srai_epi32(low, INTERPOLATE_SHIFT), _mm256_srai_epi32(high, INTERPOLATE_SHIFT));
    words = _mm256_permute4x64_epi64(words, 0xD8);  // packs works per 128-bit lane
    _mm_storeu_si128((__m128i*)(line_out + x), _mm_packus_epi16(_mm256_castsi256_si128(words), _mm256_extracti128_si256(words, 1)));
  }
  return 1;
}

// Whether the AVX2 route can take this axis: the CPU has AVX2 and there are at most
// AVX2_MAX_TAPS taps (a reduce has ~2 x 3 x its scale after the box shrink, so 64 is ample).
static int axis_fits_avx2(const Axis* axis) {
  static int cpu = -1;
  if (cpu < 0) cpu = __builtin_cpu_supports("avx2") ? 1 : 0;
  return cpu && axis->taps <= AVX2_MAX_TAPS;
}
#endif

// Output line o = the masked sum of the axis' input lines, one tap at a time across the whole
// line: a loop the compiler vectorises. Integer sums, so the order of the taps does not change a
// bit of the result. `sums` holds line_length values. On AVX2 each line's samples up to its last
// multiple of 16 go through reduce_line_avx2 where it takes them, and this loop does the rest.
HOT_LOOP static void reduce_lines_into(uint8_t* out, const uint8_t* src, size_t line_length, const Axis* axis, int32_t* sums) {
  size_t vector_end = 0;
#ifdef HAVE_AVX2_PATH
  if (line_length >= 16 && axis_fits_avx2(axis)) vector_end = line_length & ~(size_t)15;
#endif
  for (size_t o = 0; o < axis->to; o++) {
    size_t done = 0;
#ifdef HAVE_AVX2_PATH
    if (vector_end > 0 && reduce_line_avx2(out + o * line_length, src, line_length, axis->inputs + o * (size_t)axis->taps, axis->masks + o * (size_t)axis->taps, axis->taps, vector_end)) {
      done = vector_end;
    }
#endif
    if (done == line_length) continue;
    const size_t rest = line_length - done;
    for (size_t x = 0; x < rest; x++) sums[x] = 1 << (INTERPOLATE_SHIFT - 1);
    for (int32_t i = 0; i < axis->taps; i++) {
      int32_t weight = axis->masks[o * (size_t)axis->taps + (size_t)i];
      if (weight == 0) continue;
      add_weighted(sums, src + (size_t)axis->inputs[o * (size_t)axis->taps + (size_t)i] * line_length + done, weight, (int32_t)rest);
    }
    round_and_clip(out + o * line_length + done, sums, (int32_t)rest);
  }
}

static void transpose_into(uint8_t* out, const uint8_t* src, int32_t width, int32_t height, int32_t channels);

static napi_value reduce_lines(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  size_t src_length = 0;
  int32_t line_length;
  const uint8_t* src = typed_array(env, argv[0], napi_uint8_array, &src_length);
  if (!src || !int_argument(env, argv[1], &line_length)) return NULL;
  if (line_length <= 0) {
    napi_throw_range_error(env, "TS_ERR_DECODE_NATIVE_ARGUMENT", "reduceLines: the line length must be positive");
    return NULL;
  }
  Axis axis;
  if (!read_axis(env, argv + 2, src_length / (size_t)line_length, "reduceLines", &axis)) return NULL;
  uint8_t* out = NULL;
  napi_value result = new_bytes(env, axis.to * (size_t)line_length, &out);
  int32_t* sums = result ? malloc(sizeof(int32_t) * (size_t)line_length) : NULL;
  if (!sums) {
    napi_throw_error(env, "TS_ERR_DECODE_NATIVE_MEMORY", "reduceLines: out of memory");
    return NULL;
  }
  reduce_lines_into(out, src, (size_t)line_length, &axis, sums);
  free(sums);
  return result;
}

// An image argument: (src, width, height, channels) with width x height x channels = its length;
// NULL with an error pending otherwise.
static const uint8_t* read_image(napi_env env, napi_value* argv, const char* name, int32_t* width, int32_t* height, int32_t* channels) {
  size_t length = 0;
  const uint8_t* src = typed_array(env, argv[0], napi_uint8_array, &length);
  if (!src || !int_argument(env, argv[1], width) || !int_argument(env, argv[2], height) || !int_argument(env, argv[3], channels)) return NULL;
  if (*width <= 0 || *height <= 0 || *channels <= 0 || (size_t)*width * (size_t)*height * (size_t)*channels != length) {
    char message[160];
    snprintf(message, sizeof message, "%s: width x height x channels must be the source's length", name);
    napi_throw_range_error(env, "TS_ERR_DECODE_NATIVE_ARGUMENT", message);
    return NULL;
  }
  return src;
}

// vips_shrinkv with ceil, as vips-reduce.ts's boxShrinkRows: output line o is the mean of input
// lines o*k .. o*k+k-1 (the last block padded with the last line), taken as libvips' vector path
// takes it: ((sum + floor(k / 2)) * floor(2^32 / (256 k))) >> 24. Columns are the same lines of the
// transposed image. `sums` holds line_length values.
HOT_LOOP static void box_shrink_lines_into(uint8_t* out, const uint8_t* src, size_t from, size_t line_length, int32_t k, int32_t* sums) {
  size_t to = (from + (size_t)k - 1) / (size_t)k;
  uint64_t amend = (uint64_t)(k / 2), multiplier = (1ull << 32) / (256ull * (uint64_t)k);
  for (size_t o = 0; o < to; o++) {
    for (size_t x = 0; x < line_length; x++) sums[x] = 0;
    for (int32_t j = 0; j < k; j++) {
      size_t line = o * (size_t)k + (size_t)j;
      add_weighted(sums, src + (line < from ? line : from - 1) * line_length, 1, (int32_t)line_length);
    }
    uint8_t* target = out + o * line_length;
    for (size_t x = 0; x < line_length; x++) target[x] = (uint8_t)((((uint64_t)sums[x] + amend) * multiplier) >> 24);
  }
}

// vips-reduce.ts's reduceImage: rows (box shrink by box_rows, then the masked reduce), then
// columns (the same, as rows of the transposed image), with the intermediate images outside the
// JavaScript heap. box_rows and box_columns (arguments 11 and 12) are 1 when absent.
static napi_value reduce_image(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13] = {NULL};
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t width, height, channels, box_rows = 1, box_columns = 1;
  const uint8_t* src = read_image(env, argv, "reduceImage", &width, &height, &channels);
  if (!src) return NULL;
  if ((argc > 11 && !int_argument(env, argv[11], &box_rows)) || (argc > 12 && !int_argument(env, argv[12], &box_columns))) return NULL;
  if (box_rows < 1 || box_columns < 1 || box_rows > height || box_columns > width) {
    napi_throw_range_error(env, "TS_ERR_DECODE_NATIVE_ARGUMENT", "reduceImage: a box shrink must be between 1 and the axis' length");
    return NULL;
  }
  size_t boxed_height = ((size_t)height + (size_t)box_rows - 1) / (size_t)box_rows;
  size_t boxed_width = ((size_t)width + (size_t)box_columns - 1) / (size_t)box_columns;
  Axis rows, columns;
  if (!read_axis(env, argv + 4, boxed_height, "reduceImage (rows)", &rows) || !read_axis(env, argv + 7, boxed_width, "reduceImage (columns)", &columns)) return NULL;
  size_t row_length = (size_t)width * (size_t)channels, column_length = rows.to * (size_t)channels;
  size_t reduced = columns.to * column_length;
  // Every intermediate image fits in either half of the scratch: the images ping-pong between them.
  size_t sizes[4] = {boxed_height * row_length, rows.to * row_length, boxed_width * column_length, reduced};
  size_t half = 0;
  for (int i = 0; i < 4; i++) half = sizes[i] > half ? sizes[i] : half;
  uint8_t* out = NULL;
  napi_value result = output_bytes(env, argc > 10 ? argv[10] : NULL, reduced, &out);
  uint8_t* scratch = result ? malloc(2 * half) : NULL;
  int32_t* sums = scratch ? malloc(sizeof(int32_t) * (row_length > column_length ? row_length : column_length)) : NULL;
  if (!sums) {
    free(scratch);
    napi_throw_error(env, "TS_ERR_DECODE_NATIVE_MEMORY", "reduceImage: out of memory");
    return NULL;
  }
  uint8_t *a = scratch, *b = scratch + half;
  const uint8_t* rows_in = src;
  if (box_rows > 1) {
    box_shrink_lines_into(a, src, (size_t)height, row_length, box_rows, sums);     // width x boxed_height
    rows_in = a;
  }
  reduce_lines_into(b, rows_in, row_length, &rows, sums);                          // width x rows.to
  transpose_into(a, b, width, (int32_t)rows.to, channels);                         // rows.to x width
  const uint8_t* columns_in = a;
  if (box_columns > 1) {
    box_shrink_lines_into(b, a, (size_t)width, column_length, box_columns, sums);  // rows.to x boxed_width
    columns_in = b;
  }
  uint8_t* column_out = columns_in == a ? b : a;
  reduce_lines_into(column_out, columns_in, column_length, &columns, sums);        // rows.to x columns.to, transposed
  transpose_into(out, column_out, (int32_t)rows.to, (int32_t)columns.to, channels); // columns.to x rows.to
  free(sums);
  free(scratch);
  return result;
}

// Tiles of 32 x 32 pixels, so both the rows read and the rows written stay in cache. COPY copies
// the pixel at `from` to `to` (source row y).
#define TILE 32
#define TRANSPOSE_BODY(PIXEL, COPY)                                                                \
  for (int32_t y0 = 0; y0 < height; y0 += TILE) {                                                  \
    for (int32_t x0 = 0; x0 < width; x0 += TILE) {                                                 \
      int32_t y1 = y0 + TILE < height ? y0 + TILE : height, x1 = x0 + TILE < width ? x0 + TILE : width; \
      for (int32_t y = y0; y < y1; y++) {                                                          \
        for (int32_t x = x0; x < x1; x++) {                                                        \
          const uint8_t* from = src + ((size_t)y * (size_t)width + (size_t)x) * (PIXEL);           \
          uint8_t* to = out + ((size_t)x * (size_t)height + (size_t)y) * (PIXEL);                  \
          COPY;                                                                                    \
        }                                                                                          \
      }                                                                                            \
    }                                                                                              \
  }
#define COPY_BYTES(PIXEL) \
  for (int32_t c = 0; c < (PIXEL); c++) to[c] = from[c]
// An RGB pixel moved as one 4-byte word, a third of the byte copies' instructions. Its fourth byte
// lands on the first byte of the output pixel after it, source row y + 1, which the loops write
// later (the rows run outermost); only the last source row would spill into a pixel already
// written, or read past the source, so it is copied byte by byte.
#define COPY_RGB_WORD                       \
  if (y + 1 < height) {                     \
    uint32_t word;                          \
    memcpy(&word, from, sizeof word);       \
    memcpy(to, &word, sizeof word);         \
  } else {                                  \
    COPY_BYTES(3);                          \
  }

static void transpose_pixels3(uint8_t* restrict out, const uint8_t* restrict src, int32_t width, int32_t height) { TRANSPOSE_BODY(3, COPY_RGB_WORD) }
static void transpose_pixels1(uint8_t* restrict out, const uint8_t* restrict src, int32_t width, int32_t height) { TRANSPOSE_BODY(1, COPY_BYTES(1)) }
static void transpose_pixels(uint8_t* restrict out, const uint8_t* restrict src, int32_t width, int32_t height, int32_t channels) {
  TRANSPOSE_BODY(channels, COPY_BYTES(channels))
}

// The channel counts the decode stage produces get loops with a constant pixel size.
static void transpose_into(uint8_t* out, const uint8_t* src, int32_t width, int32_t height, int32_t channels) {
  if (channels == 3) transpose_pixels3(out, src, width, height);
  else if (channels == 1) transpose_pixels1(out, src, width, height);
  else transpose_pixels(out, src, width, height, channels);
}

static napi_value transpose(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t width, height, channels;
  const uint8_t* src = read_image(env, argv, "transpose", &width, &height, &channels);
  if (!src) return NULL;
  size_t length = (size_t)width * (size_t)height * (size_t)channels;
  uint8_t* out = NULL;
  napi_value result = new_bytes(env, length, &out);
  if (!result) return NULL;
  transpose_into(out, src, width, height, channels);
  return result;
}

// ---- PNG -------------------------------------------------------------------------------------

static void free_decompressor(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  libdeflate_free_decompressor(data);
}

// One decompressor per Node environment (the main thread and each decode worker load the addon
// apart): libdeflate's may not be shared between threads, and one per image would cost more than
// a small image's inflate.
static struct libdeflate_decompressor* decompressor(napi_env env) {
  void* data = NULL;
  if (napi_get_instance_data(env, &data) == napi_ok && data) return data;
  struct libdeflate_decompressor* created = libdeflate_alloc_decompressor();
  if (created && napi_set_instance_data(env, created, free_decompressor, NULL) != napi_ok) {
    libdeflate_free_decompressor(created);
    return NULL;
  }
  return created;
}

static uint8_t paeth(int a, int b, int c) {
  int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
  return (uint8_t)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
}

// PNG's row filters undone: each row of `stride` bytes follows its filter-type byte in
// `filtered`; bpp is the bytes of one pixel (1 for packed palette indices). 0 for a filter type
// PNG does not define. The first row reads zeros above it, the first pixel zeros to its left.
static int unfilter_rows(uint8_t* restrict out, const uint8_t* restrict filtered, size_t stride, size_t height, size_t bpp) {
  for (size_t y = 0; y < height; y++) {
    const uint8_t* src = filtered + y * (stride + 1) + 1;
    uint8_t* row = out + y * stride;
    const uint8_t* up = y > 0 ? row - stride : NULL;
    size_t lead = bpp < stride ? bpp : stride;
    switch (src[-1]) {
      case 0:
        memcpy(row, src, stride);
        break;
      case 1:
        memcpy(row, src, lead);
        for (size_t x = lead; x < stride; x++) row[x] = (uint8_t)(src[x] + row[x - bpp]);
        break;
      case 2:
        if (!up) memcpy(row, src, stride);
        else for (size_t x = 0; x < stride; x++) row[x] = (uint8_t)(src[x] + up[x]);
        break;
      case 3:
        for (size_t x = 0; x < lead; x++) row[x] = (uint8_t)(src[x] + ((up ? up[x] : 0) >> 1));
        for (size_t x = lead; x < stride; x++) row[x] = (uint8_t)(src[x] + ((row[x - bpp] + (up ? up[x] : 0)) >> 1));
        break;
      case 4:
        // Nothing to the left: Paeth picks the byte above.
        for (size_t x = 0; x < lead; x++) row[x] = (uint8_t)(src[x] + (up ? up[x] : 0));
        if (!up) for (size_t x = lead; x < stride; x++) row[x] = (uint8_t)(src[x] + row[x - bpp]);
        else for (size_t x = lead; x < stride; x++) row[x] = (uint8_t)(src[x] + paeth(row[x - bpp], up[x], up[x - bpp]));
        break;
      default:
        return 0;
    }
  }
  return 1;
}

static napi_value inflate_png(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6] = {NULL};
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  size_t length = 0, part_count = 0;
  int32_t height, stride, bpp;
  const uint8_t* png = typed_array(env, argv[0], napi_uint8_array, &length);
  if (!png) return NULL;
  const int32_t* parts = typed_array(env, argv[1], napi_int32_array, &part_count);
  if (!parts || !int_argument(env, argv[2], &height) || !int_argument(env, argv[3], &stride) || !int_argument(env, argv[4], &bpp)) return NULL;
  if (height <= 0 || stride <= 0 || bpp <= 0 || bpp > 8) {
    napi_throw_range_error(env, "TS_ERR_DECODE_NATIVE_ARGUMENT", "inflatePng: height and stride must be positive, bpp 1 to 8");
    return NULL;
  }
  int valid = part_count > 0 && part_count % 2 == 0;
  size_t stream_length = 0;
  for (size_t i = 0; valid && i < part_count; i += 2) {
    valid = parts[i] >= 0 && parts[i + 1] >= 0 && (size_t)parts[i] + (size_t)parts[i + 1] <= length;
    stream_length += valid ? (size_t)parts[i + 1] : 0;
  }
  if (!valid) {
    napi_throw_range_error(env, "TS_ERR_DECODE_NATIVE_ARGUMENT", "inflatePng: parts must be start, length pairs within the PNG");
    return NULL;
  }
  struct libdeflate_decompressor* inflater = decompressor(env);
  size_t filtered_length = (size_t)height * ((size_t)stride + 1);
  // One IDAT chunk is inflated where it lies; several are joined first (libdeflate wants the whole stream).
  uint8_t* joined = inflater && part_count > 2 ? malloc(stream_length + 1) : NULL;
  uint8_t* filtered = inflater && (part_count == 2 || joined) ? malloc(filtered_length) : NULL;
  if (!filtered) {
    free(joined);
    napi_throw_error(env, "TS_ERR_DECODE_NATIVE_MEMORY", "inflatePng: out of memory");
    return NULL;
  }
  const uint8_t* stream = png + parts[0];
  if (joined) {
    for (size_t i = 0, at = 0; i < part_count; at += (size_t)parts[i + 1], i += 2) memcpy(joined + at, png + parts[i], (size_t)parts[i + 1]);
    stream = joined;
  }
  // No actual-size pointer: libdeflate then succeeds only when the stream holds exactly this many bytes.
  enum libdeflate_result inflated = libdeflate_zlib_decompress(inflater, stream, stream_length, filtered, filtered_length, NULL);
  free(joined);
  if (inflated != LIBDEFLATE_SUCCESS) {
    free(filtered);
    return null_value(env);
  }
  uint8_t* out = NULL;
  napi_value result = output_bytes(env, argc > 5 ? argv[5] : NULL, (size_t)height * (size_t)stride, &out);
  int ok = result && unfilter_rows(out, filtered, (size_t)stride, (size_t)height, (size_t)bpp);
  free(filtered);
  if (!result) return NULL;
  return ok ? result : null_value(env);
}

static napi_value crc32_range(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3] = {NULL};
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  size_t length = 0;
  int32_t start, count;
  const uint8_t* bytes = typed_array(env, argv[0], napi_uint8_array, &length);
  if (!bytes || !int_argument(env, argv[1], &start) || !int_argument(env, argv[2], &count)) return NULL;
  if (start < 0 || count < 0 || (size_t)start + (size_t)count > length) {
    napi_throw_range_error(env, "TS_ERR_DECODE_NATIVE_ARGUMENT", "crc32: the range must lie within the bytes");
    return NULL;
  }
  napi_value value;
  napi_create_uint32(env, libdeflate_crc32(0, bytes + start, (size_t)count), &value);
  return value;
}

// ---- model input -------------------------------------------------------------------------------

#define MAX_CHANNELS 4

HOT_LOOP static void normalise_interleaved(float* restrict out, const uint8_t* restrict src, size_t pixels, int32_t channels, const double* gain, const double* shift) {
  if (channels == 3) {
    double g0 = gain[0], g1 = gain[1], g2 = gain[2], s0 = shift[0], s1 = shift[1], s2 = shift[2];
    for (size_t p = 0; p < pixels; p++) {
      out[3 * p] = (float)(src[3 * p] * g0 + s0);
      out[3 * p + 1] = (float)(src[3 * p + 1] * g1 + s1);
      out[3 * p + 2] = (float)(src[3 * p + 2] * g2 + s2);
    }
    return;
  }
  for (size_t p = 0; p < pixels; p++) {
    for (int32_t c = 0; c < channels; c++) out[p * (size_t)channels + (size_t)c] = (float)(src[p * (size_t)channels + (size_t)c] * gain[c] + shift[c]);
  }
}

HOT_LOOP static void normalise_plane(float* restrict out, const uint8_t* restrict src, size_t pixels, int32_t channels, double gain, double shift) {
  for (size_t p = 0; p < pixels; p++) out[p] = (float)(src[p * (size_t)channels] * gain + shift);
}

static napi_value normalise(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  size_t length = 0, gains = 0, shifts = 0;
  int32_t channels;
  bool planar = false;
  const uint8_t* src = typed_array(env, argv[0], napi_uint8_array, &length);
  if (!src || !int_argument(env, argv[1], &channels)) return NULL;
  const double* gain = typed_array(env, argv[2], napi_float64_array, &gains);
  if (!gain) return NULL;
  const double* shift = typed_array(env, argv[3], napi_float64_array, &shifts);
  if (!shift || napi_get_value_bool(env, argv[4], &planar) != napi_ok) return NULL;
  if (channels <= 0 || channels > MAX_CHANNELS || gains != (size_t)channels || shifts != (size_t)channels || length % (size_t)channels != 0) {
    napi_throw_range_error(env, "TS_ERR_DECODE_NATIVE_ARGUMENT", "normalise: one gain and one shift per channel, and whole pixels");
    return NULL;
  }
  napi_value buffer, result;
  float* out = NULL;
  napi_valuetype given = napi_undefined;
  if (argc > 5) napi_typeof(env, argv[5], &given);
  if (given != napi_undefined) {
    // The caller's buffer (one it reuses): no new backing store for V8 to count towards a GC.
    size_t out_length = 0;
    out = typed_array(env, argv[5], napi_float32_array, &out_length);
    if (!out) return NULL;
    if (out_length != length) {
      napi_throw_range_error(env, "TS_ERR_DECODE_NATIVE_ARGUMENT", "normalise: the output must hold one value per input sample");
      return NULL;
    }
    result = argv[5];
  } else {
    if (napi_create_arraybuffer(env, length * sizeof(float), (void**)&out, &buffer) != napi_ok) return NULL;
    napi_create_typedarray(env, napi_float32_array, length, buffer, 0, &result);
  }
  size_t pixels = length / (size_t)channels;
  if (planar && channels > 1) {
    for (int32_t c = 0; c < channels; c++) normalise_plane(out + (size_t)c * pixels, src + c, pixels, channels, gain[c], shift[c]);
  } else {
    normalise_interleaved(out, src, pixels, channels, gain, shift);
  }
  return result;
}

NAPI_MODULE_INIT() {
  const napi_property_descriptor functions[] = {
      {"jpegHeader", NULL, jpeg_header, NULL, NULL, NULL, napi_enumerable, NULL},
      {"decodeJpeg", NULL, decode_jpeg, NULL, NULL, NULL, napi_enumerable, NULL},
      {"reduceLines", NULL, reduce_lines, NULL, NULL, NULL, napi_enumerable, NULL},
      {"reduceImage", NULL, reduce_image, NULL, NULL, NULL, napi_enumerable, NULL},
      {"transpose", NULL, transpose, NULL, NULL, NULL, napi_enumerable, NULL},
      {"normalise", NULL, normalise, NULL, NULL, NULL, napi_enumerable, NULL},
      {"inflatePng", NULL, inflate_png, NULL, NULL, NULL, napi_enumerable, NULL},
      {"crc32", NULL, crc32_range, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions);
  return exports;
}
