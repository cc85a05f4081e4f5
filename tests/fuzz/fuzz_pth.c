/*
 * fuzz_pth.c - libFuzzer harness for PyTorch zip checkpoints: the zip reader
 * (lib/io/zip.c), the restricted unpickler (lib/io/pickle.c) and the tensor
 * views (lib/io/pth.c), reached through tf_open_mem like every caller (the
 * model loader's tf_open differs only by the mmap).
 *
 * Built and run by `make fuzz` / `make fuzz-build` (see tests/fuzz/README.md):
 *   ./build-fuzz/fuzz_pth -max_len=65536 build-fuzz/corpus/pth tests/fuzz/corpus_pth
 *
 * Seeds (tests/fuzz/corpus_pth, made by tools/make_fuzz_seeds.py): small
 * torch.save-layout archives - plain state dicts, shared storages with
 * offsets and strides, every storage dtype, {'state_dict': ...} and
 * whisper's {'dims': ..., 'model_state_dict': ...} wrappers, a zip64
 * archive, and malformed ones (truncated, bad offsets, compressed entries,
 * views past their storage, two pickles, big-endian byteorder).
 *
 * An input that does not start with "PK\3\4" goes to the safetensors parser,
 * which fuzz_safetensors.c covers; the checks below hold for both. The
 * pickle itself is fuzzed more efficiently by fuzz_pickle.c, which keeps the
 * zip around it intact.
 *
 * Checks (fuzz_tensors.h): on failure no tf_file and a message naming the
 * input; on success every view inside the input and inside one zip entry,
 * nbytes equal to the span of its sizes and strides, small tensors read as
 * F32, whisper dims from the pickle in range or a named error.
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_tensors.h"

#define NAME "fuzz.pth"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tf_file *f = NULL;
    anim_error err = {0};
    anim_status st = tf_open_mem(data, size, NAME, &f, &err);
    if (st != ANIM_OK) {
        FUZZ_CHECK(f == NULL);
        fuzz_check_error(st, &err, NAME);
        return 0;
    }
    FUZZ_CHECK(f != NULL && (f->format == TF_PTH || f->format == TF_SAFETENSORS));
    fuzz_check_tf_file(f, data, size);
    tf_close(f);
    return 0;
}
