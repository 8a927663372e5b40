// Counting one byte value in a buffer (the newlines of a log region), with AVX2 where the CPU
// has it (checked once), else SSE2, which every x86-64 CPU has; a plain loop on other machines.
#include <stddef.h>
#include <stdint.h>
#include "CSystemShims.h"

#if defined(__x86_64__)
#include <immintrin.h>

// Each lane of `acc` counts its matches by subtracting the compare's 0xFF (-1); 255 blocks at
// most before the lanes are summed (`sad` against zero adds the bytes of each 64-bit quarter).
__attribute__((target("avx2"))) static size_t count_avx2(const unsigned char *p, size_t n, unsigned char byte) {
    const __m256i needle = _mm256_set1_epi8((char)byte);
    size_t count = 0, i = 0;
    while (i + 32 <= n) {
        __m256i acc = _mm256_setzero_si256();
        size_t blocks = (n - i) / 32;
        if (blocks > 255) blocks = 255;
        for (size_t b = 0; b < blocks; b++, i += 32) {
            __m256i v = _mm256_loadu_si256((const __m256i *)(p + i));
            acc = _mm256_sub_epi8(acc, _mm256_cmpeq_epi8(v, needle));
        }
        __m256i sums = _mm256_sad_epu8(acc, _mm256_setzero_si256());
        count += (size_t)_mm256_extract_epi64(sums, 0) + (size_t)_mm256_extract_epi64(sums, 1)
            + (size_t)_mm256_extract_epi64(sums, 2) + (size_t)_mm256_extract_epi64(sums, 3);
    }
    for (; i < n; i++) count += p[i] == byte;
    return count;
}

static size_t count_sse2(const unsigned char *p, size_t n, unsigned char byte) {
    const __m128i needle = _mm_set1_epi8((char)byte);
    size_t count = 0, i = 0;
    while (i + 16 <= n) {
        __m128i acc = _mm_setzero_si128();
        size_t blocks = (n - i) / 16;
        if (blocks > 255) blocks = 255;
        for (size_t b = 0; b < blocks; b++, i += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(p + i));
            acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(v, needle));
        }
        __m128i sums = _mm_sad_epu8(acc, _mm_setzero_si128());
        count += (size_t)_mm_cvtsi128_si64(sums) + (size_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(sums, sums));
    }
    for (; i < n; i++) count += p[i] == byte;
    return count;
}

size_t evq_count_byte(const void *start, size_t length, unsigned char byte) {
    // 0: not asked yet, 1: AVX2, 2: SSE2. A race asks twice and stores the same answer.
    static int path = 0;
    if (path == 0) path = __builtin_cpu_supports("avx2") ? 1 : 2;
    return path == 1 ? count_avx2(start, length, byte) : count_sse2(start, length, byte);
}
#else
size_t evq_count_byte(const void *start, size_t length, unsigned char byte) {
    const unsigned char *p = start;
    size_t count = 0;
    for (size_t i = 0; i < length; i++) count += p[i] == byte;
    return count;
}
#endif
