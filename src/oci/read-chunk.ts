/**
 * Read size for streaming blobs out of files. 1 MiB reads take about half the CPU of Node's default 64 KiB
 * (fewer reads, hash updates and socket writes per byte), which shows on pushes over a fast network.
 */
export const BLOB_READ_CHUNK = 1 << 20;
