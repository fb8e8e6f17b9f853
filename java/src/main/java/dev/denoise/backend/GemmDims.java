package dev.denoise.backend;

/**
 * The sizes of a row-major GEMM c (m,n) = alpha op(a) op(b) + beta c, as native/denoise.h's gemm
 * takes them: op(a) is (m,k), op(b) is (k,n); lda, ldb, ldc are the stored row lengths.
 */
public record GemmDims(boolean transA, boolean transB, int m, int n, int k, int lda, int ldb, int ldc) {}
