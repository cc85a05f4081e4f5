/*
 * test_errors.c - the bad-input table of docs/errors.md, from the user's side.
 *
 * One test per row of that table that no other file tests end to end: the
 * example binaries (pose2vid, talking_head) are run on a malformed input and
 * must exit with their own status (1: the input is bad, 2: the command line
 * is), not a signal, print exactly one line naming the file or flag at fault
 * (and no sanitizer report), and leave nothing under the requested output
 * name, temporary files included. Rows about parameters are also checked
 * through the public API (status + anim_ctx_last_error). Where the message
 * today is poor (docs/errors.md, "Known gaps") only the exit status, the
 * file named and the one line are checked, so that a better message does not
 * break the test; the gaps that a test would fail on are listed there, not
 * asserted here.
 *
 * The malformed files are built here (a few KB each, in a per-process
 * scratch directory under test_tmp_dir(), removed at exit): checkpoints are
 * rewritten from tests/fixtures/moore-tiny/pose_guider.safetensors by a small
 * safetensors writer of our own, the forbidden-pickle .pth by a stored-zip
 * writer and a hand-assembled pickle, PNGs by a minimal PNG writer (CRC-32,
 * zlib stored block), WAVs and pose JSON as text/bytes. Model directories
 * are symlink copies of the tiny fixtures with one file replaced.
 *
 * The binaries are those of the build the test runner belongs to
 * (build-san/pose2vid beside build-san/tests/run_tests), else build/.
 */
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "animate.h"
#include "io/tensor_file.h"
#include "test.h"

#define MOORE "tests/fixtures/moore-tiny"
#define ECHO "tests/fixtures/echomimic-tiny"
#define IMGS "tests/fixtures/images"

/* ---- where things are ----------------------------------------------------- */

/* The example binary `name` of this runner's build (<build>/tests/run_tests ->
 * <build>/name), else build/name; NULL when neither exists. */
static const char *bin(const char *name) {
    static char slots[4][1100];
    static int next;
    char *p = slots[next++ % 4];
    char exe[1024];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *s = strrchr(exe, '/');
        if (s) { *s = 0; s = strrchr(exe, '/'); }
        if (s) {
            *s = 0;
            snprintf(p, 1100, "%s/%s", exe, name);
            if (access(p, X_OK) == 0) return p;
        }
    }
    snprintf(p, 1100, "build/%s", name);
    return access(p, X_OK) == 0 ? p : NULL;
}

/* One scratch directory per process, so that two runs at once do not collide. */
static char g_scratch[256];

static void scratch_remove(void) {
    if (!g_scratch[0]) return;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_scratch);
    if (system(cmd) != 0) fprintf(stderr, "test_errors: could not remove %s\n", g_scratch);
}

static const char *scratch(void) {
    if (!g_scratch[0]) {
        snprintf(g_scratch, sizeof g_scratch, "%s/errors.%ld", test_tmp_dir(), (long)getpid());
        if (mkdir(g_scratch, 0755) != 0 && errno != EEXIST) return NULL;
        atexit(scratch_remove);
    }
    return g_scratch;
}

/* scratch/name in a rotating static buffer */
static const char *sp(const char *name) {
    static char slots[8][512];
    static int next;
    char *p = slots[next++ % 8];
    snprintf(p, 512, "%s/%s", scratch(), name);
    return p;
}

static bool exists(const char *path) {
    struct stat sb;
    return lstat(path, &sb) == 0;
}

/* A symlink copy of a fixture model directory with `drop` (if any) removed. */
static const char *model_copy(const char *fixture, const char *name, const char *drop) {
    const char *d = sp(name);
    char cwd[512], cmd[2048];
    if (!getcwd(cwd, sizeof cwd)) return NULL;
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -rs '%s/%s' '%s'", d, cwd, fixture, d);
    if (system(cmd) != 0) return NULL;
    if (drop) {
        snprintf(cmd, sizeof cmd, "%s/%s", d, drop);
        if (unlink(cmd) != 0) return NULL;
    }
    return d;
}

/* ---- running a binary --------------------------------------------------------- */

typedef struct run_result {
    int rc;        /* exit status, or -1 */
    int sig;       /* the signal that ended it, or 0 */
    char out[8192];
} run_result;

static void run(const char *cmd, run_result *r) {
    char full[4096];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    r->rc = -1;
    r->sig = 0;
    r->out[0] = 0;
    FILE *f = popen(full, "r");
    if (!f) return;
    size_t n = fread(r->out, 1, sizeof r->out - 1, f);
    r->out[n] = 0;
    int st = pclose(f);
    if (WIFEXITED(st)) r->rc = WEXITSTATUS(st);
    else if (WIFSIGNALED(st)) r->sig = WTERMSIG(st);
}

/* The shell reports a child killed by a signal as 128 + signal. */
static bool by_signal(const run_result *r) { return r->sig != 0 || (r->rc > 128 && r->rc < 128 + 65); }

/* The failure contract of the examples: exit status `want_rc` (not a signal),
 * one line holding every fragment, no sanitizer report, and nothing left
 * under `out_path` (nor `out_path`.* temporaries). Records a failure tagged
 * with `what` and returns false otherwise. */
static bool fails_cleanly(const char *what, const char *cmd, int want_rc, const char *out_path, const char *frag1,
                          const char *frag2, const char *frag3) {
    run_result r;
    run(cmd, &r);
    if (by_signal(&r)) {
        test_fail(__FILE__, __LINE__, "%s: killed by signal %d: %s", what, r.sig ? r.sig : r.rc - 128, r.out);
        return false;
    }
    if (r.rc != want_rc) {
        test_fail(__FILE__, __LINE__, "%s: exit %d, want %d: %s", what, r.rc, want_rc, r.out);
        return false;
    }
    char *nl = strchr(r.out, '\n');
    if (!nl || nl[1] != '\0') {
        test_fail(__FILE__, __LINE__, "%s: not one line: \"%s\"", what, r.out);
        return false;
    }
    if (strstr(r.out, "Sanitizer") || strstr(r.out, "runtime error")) {
        test_fail(__FILE__, __LINE__, "%s: sanitizer report: %s", what, r.out);
        return false;
    }
    const char *frags[3] = {frag1, frag2, frag3};
    for (int i = 0; i < 3; i++)
        if (frags[i] && !strstr(r.out, frags[i])) {
            test_fail(__FILE__, __LINE__, "%s: \"%s\" lacks \"%s\"", what, r.out, frags[i]);
            return false;
        }
    if (out_path) {
        /* a talking-head NAME.webp comes with NAME.wav */
        char wav[1100];
        size_t ol = strlen(out_path);
        if (ol > 5 && !strcmp(out_path + ol - 5, ".webp")) {
            snprintf(wav, sizeof wav, "%.*s.wav", (int)(ol - 5), out_path);
            if (exists(wav)) {
                test_fail(__FILE__, __LINE__, "%s: %s was left behind", what, wav);
                return false;
            }
        }
        char pat[1100];
        snprintf(pat, sizeof pat, "%s.*", out_path);
        glob_t g;
        int gr = glob(pat, 0, NULL, &g);
        size_t left = gr == 0 ? g.gl_pathc : 0;
        if (gr == 0) globfree(&g);
        if (exists(out_path) || left) {
            test_fail(__FILE__, __LINE__, "%s: output %s (or a temporary of it) was left behind", what, out_path);
            return false;
        }
    }
    return true;
}

#define FAILS(what, cmd, rc, out, f1, f2, f3) \
    do { if (!fails_cleanly((what), (cmd), (rc), (out), (f1), (f2), (f3))) return; } while (0)

/* pose2vid on the tiny model, 4 pose pictures, 64x64, 1 step. Fills cmd. */
static const char *g_poses;

static bool pose_setup(void) {
    if (g_poses) return true;
    const char *d = sp("poses");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s' && cp " MOORE "/inputs/pose_00[0-3].png '%s/'", d, d, d);
    if (system(cmd) != 0) return false;
    g_poses = strdup(d);
    return g_poses != NULL;
}

static void pose_cmd(char *cmd, size_t cap, const char *models, const char *ref, const char *poses, const char *out,
                     const char *extra) {
    snprintf(cmd, cap,
             "%s --backend cpu --quiet --models '%s' --ref '%s' --poses '%s' -W 64 -H 64 --steps 1 --out '%s' %s",
             bin("pose2vid"), models, ref, poses ? poses : g_poses, out, extra ? extra : "");
}

static void talk_cmd(char *cmd, size_t cap, const char *models, const char *audio, const char *out, const char *extra) {
    snprintf(cmd, cap,
             "%s --backend cpu --quiet --models '%s' --ref " ECHO "/inputs/portrait.png --audio '%s' -W 64 -H 64 "
             "-L 4 --steps 1 --out '%s' %s",
             bin("talking_head"), models, audio, out, extra ? extra : "");
}

#define NEED_POSE2VID()                                                       \
    do {                                                                      \
        if (!bin("pose2vid")) SKIP("pose2vid not built");                     \
        CHECK(scratch() && pose_setup());                                     \
    } while (0)
#define NEED_TALKING_HEAD()                                                   \
    do {                                                                      \
        if (!bin("talking_head")) SKIP("talking_head not built");             \
        CHECK(scratch());                                                     \
    } while (0)

/* ---- building malformed files ------------------------------------------------ */

typedef struct st_ent {
    char name[128];
    char dtype[16];
    int ndim;
    int64_t shape[8];
    const void *data;
    size_t nbytes;
} st_ent;

/* A safetensors file of these entries, data packed in order. */
static bool st_write_ents(const char *path, const st_ent *e, size_t n) {
    char *hdr = malloc(65536);
    if (!hdr) return false;
    size_t o = 0;
    uint64_t off = 0;
    o += (size_t)snprintf(hdr + o, 65536 - o, "{");
    for (size_t i = 0; i < n; i++) {
        o += (size_t)snprintf(hdr + o, 65536 - o, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[", i ? "," : "", e[i].name,
                              e[i].dtype);
        for (int d = 0; d < e[i].ndim; d++)
            o += (size_t)snprintf(hdr + o, 65536 - o, "%s%lld", d ? "," : "", (long long)e[i].shape[d]);
        o += (size_t)snprintf(hdr + o, 65536 - o, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
                              (unsigned long long)(off + e[i].nbytes));
        off += e[i].nbytes;
    }
    o += (size_t)snprintf(hdr + o, 65536 - o, "}");
    FILE *f = fopen(path, "wb");
    bool ok = f != NULL && o < 65536;
    uint8_t len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)o >> (8 * i));
    if (ok) ok = fwrite(len8, 1, 8, f) == 8 && fwrite(hdr, 1, o, f) == o;
    for (size_t i = 0; ok && i < n; i++) ok = !e[i].nbytes || fwrite(e[i].data, 1, e[i].nbytes, f) == e[i].nbytes;
    if (f && fclose(f) != 0) ok = false;
    free(hdr);
    return ok;
}

typedef enum ckpt_mod { MOD_F8, MOD_I32, MOD_SHAPE, MOD_MISSING, MOD_EXTRA } ckpt_mod;

/* The tiny pose guider with one change to its second tensor (blocks.0.weight,
 * [4, 4, 3, 3] F32), or an extra tensor, written as dir/pose_guider.safetensors. */
static bool write_pose_guider(const char *dir, ckpt_mod mod) {
    tf_file *f = NULL;
    anim_error e;
    if (tf_open(MOORE "/pose_guider.safetensors", &f, &e) != ANIM_OK) {
        printf("    %s\n", e.msg);
        return false;
    }
    st_ent *ents = calloc(f->n + 1, sizeof *ents);
    static uint8_t zeros[4 * 4 * 4 * 3 * 3];
    static const float extra[2] = {0, 0};
    size_t n = 0;
    bool ok = ents != NULL;
    for (size_t i = 0; ok && i < f->n; i++) {
        const tf_tensor *t = &f->tensors[i];
        bool target = !strcmp(t->name, "blocks.0.weight");
        if (target && mod == MOD_MISSING) continue;
        st_ent *x = &ents[n++];
        snprintf(x->name, sizeof x->name, "%s", t->name);
        snprintf(x->dtype, sizeof x->dtype, "%s", anim_dtype_name(t->dtype));
        x->ndim = t->ndim;
        memcpy(x->shape, t->shape, sizeof x->shape);
        x->data = t->data;
        x->nbytes = (size_t)t->nbytes;
        if (!target) continue;
        ok = t->ndim == 4 && tf_numel(t) == 144;
        if (mod == MOD_F8) { snprintf(x->dtype, sizeof x->dtype, "F8_E4M3"); x->data = zeros; x->nbytes = 144; }
        if (mod == MOD_I32) { snprintf(x->dtype, sizeof x->dtype, "I32"); x->data = zeros; x->nbytes = 576; }
        if (mod == MOD_SHAPE) { x->ndim = 1; x->shape[0] = 144; }
    }
    if (ok && mod == MOD_EXTRA) ents[n++] = (st_ent){"extra.weight", "F32", 1, {2}, extra, sizeof extra};
    char path[600];
    snprintf(path, sizeof path, "%s/pose_guider.safetensors", dir);
    ok = ok && st_write_ents(path, ents, n);
    free(ents);
    tf_close(f);
    return ok;
}

/* The first `len` bytes of src (all of it when len is 0) with byte `at` set
 * to `val` (at < 0: none), written to dst. */
static bool copy_mod(const char *src, const char *dst, size_t len, long at, int val) {
    size_t n = 0;
    unsigned char *b = test_read_file(src, &n);
    if (!b) return false;
    if (len && len < n) n = len;
    if (at >= 0 && (size_t)at < n) b[at] = (unsigned char)val;
    bool ok = test_write_file(dst, b, n);
    free(b);
    return ok;
}

static uint32_t crc32_of(const uint8_t *p, size_t n, uint32_t c) {
    c = ~c;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return ~c;
}

static void be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* One PNG chunk at b+o; returns the new offset. */
static size_t png_chunk(uint8_t *b, size_t o, const char *type, const uint8_t *data, uint32_t n) {
    be32(b + o, n);
    memcpy(b + o + 4, type, 4);
    if (n) memcpy(b + o + 8, data, n);
    be32(b + o + 8 + n, crc32_of(b + o + 4, 4 + (size_t)n, 0));
    return o + 12 + n;
}

/* A valid-looking 8-bit RGB PNG of w x h whose pixel data is one zlib stored
 * block of 16 zero bytes: fine for a header check, far too short to decode. */
static bool write_png_header_only(const char *path, uint32_t w, uint32_t h) {
    uint8_t b[256];
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    memcpy(b, sig, 8);
    uint8_t ihdr[13] = {0};
    be32(ihdr, w);
    be32(ihdr + 4, h);
    ihdr[8] = 8;   /* bit depth */
    ihdr[9] = 2;   /* RGB */
    size_t o = png_chunk(b, 8, "IHDR", ihdr, 13);
    /* zlib: CMF/FLG, final stored block of 16 bytes, adler32 of 16 zeros = 0x00100001 */
    uint8_t z[2 + 5 + 16 + 4] = {0x78, 0x01, 0x01, 16, 0, 0xEF, 0xFF};
    z[23] = 0x00; z[24] = 0x10; z[25] = 0x00; z[26] = 0x01;
    o = png_chunk(b, o, "IDAT", z, sizeof z);
    o = png_chunk(b, o, "IEND", NULL, 0);
    return test_write_file(path, b, o);
}

/* A canonical 44-byte-header WAV with the given format tag and data bytes. */
static bool write_wav(const char *path, unsigned tag, unsigned bits, size_t data_bytes) {
    size_t n = 44 + data_bytes;
    uint8_t *b = calloc(1, n);
    if (!b) return false;
    unsigned ch = 1, rate = 16000, align = ch * bits / 8;
    uint32_t v[] = {(uint32_t)(n - 8), 16, rate, rate * align, (uint32_t)data_bytes};
    memcpy(b, "RIFF", 4);
    for (int i = 0; i < 4; i++) b[4 + i] = (uint8_t)(v[0] >> (8 * i));
    memcpy(b + 8, "WAVEfmt ", 8);
    for (int i = 0; i < 4; i++) b[16 + i] = (uint8_t)(v[1] >> (8 * i));
    b[20] = (uint8_t)tag; b[21] = (uint8_t)(tag >> 8);
    b[22] = (uint8_t)ch;
    for (int i = 0; i < 4; i++) b[24 + i] = (uint8_t)(v[2] >> (8 * i));
    for (int i = 0; i < 4; i++) b[28 + i] = (uint8_t)(v[3] >> (8 * i));
    b[32] = (uint8_t)align;
    b[34] = (uint8_t)bits;
    memcpy(b + 36, "data", 4);
    for (int i = 0; i < 4; i++) b[40 + i] = (uint8_t)(v[4] >> (8 * i));
    bool ok = test_write_file(path, b, n);
    free(b);
    return ok;
}

/* ---- a PyTorch zip checkpoint with a hostile pickle ------------------------------ */

typedef struct bytes { uint8_t *p; size_t n, cap; bool oom; } bytes;

static void bput(bytes *b, const void *src, size_t n) {
    if (b->oom) return;
    if (b->n + n > b->cap) {
        size_t c = b->cap ? b->cap * 2 : 512;
        while (c < b->n + n) c *= 2;
        uint8_t *q = realloc(b->p, c);
        if (!q) { b->oom = true; return; }
        b->p = q;
        b->cap = c;
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void ble(bytes *b, uint64_t v, int n) {
    uint8_t t[8];
    for (int i = 0; i < n; i++) t[i] = (uint8_t)(v >> (8 * i));
    bput(b, t, (size_t)n);
}

/* Stored (method 0) zip entries; CRCs are left 0, which the reader does not check. */
static bool write_zip(const char *path, const char *const *names, const bytes *data, int n) {
    bytes z = {0}, cd = {0};
    for (int i = 0; i < n; i++) {
        size_t off = z.n, nl = strlen(names[i]);
        ble(&z, 0x04034b50, 4); ble(&z, 20, 2); ble(&z, 0, 2); ble(&z, 0, 2); ble(&z, 0, 4); ble(&z, 0, 4);
        ble(&z, data[i].n, 4); ble(&z, data[i].n, 4); ble(&z, nl, 2); ble(&z, 0, 2);
        bput(&z, names[i], nl);
        bput(&z, data[i].p, data[i].n);
        ble(&cd, 0x02014b50, 4); ble(&cd, 20, 2); ble(&cd, 20, 2); ble(&cd, 0, 2); ble(&cd, 0, 2); ble(&cd, 0, 4);
        ble(&cd, 0, 4); ble(&cd, data[i].n, 4); ble(&cd, data[i].n, 4); ble(&cd, nl, 2); ble(&cd, 0, 2);
        ble(&cd, 0, 2); ble(&cd, 0, 2); ble(&cd, 0, 2); ble(&cd, 0, 4); ble(&cd, off, 4);
        bput(&cd, names[i], nl);
    }
    size_t cd_off = z.n;
    bput(&z, cd.p, cd.n);
    ble(&z, 0x06054b50, 4); ble(&z, 0, 4); ble(&z, (uint64_t)n, 2); ble(&z, (uint64_t)n, 2);
    ble(&z, cd.n, 4); ble(&z, cd_off, 4); ble(&z, 0, 2);
    bool ok = !z.oom && !cd.oom && test_write_file(path, z.p, z.n);
    free(z.p);
    free(cd.p);
    return ok;
}

/* archive/data.pkl = os.system(payload), the classic torch.load exploit. */
static bool write_evil_pth(const char *path, const char *payload) {
    bytes pk = {0}, ver = {0};
    bput(&pk, "\x80\x02" "cos\nsystem\n", 13);             /* PROTO 2, GLOBAL os.system */
    bput(&pk, "X", 1);                                     /* BINUNICODE payload */
    ble(&pk, strlen(payload), 4);
    bput(&pk, payload, strlen(payload));
    bput(&pk, "\x85" "R.", 3);                             /* TUPLE1, REDUCE, STOP */
    bput(&ver, "3\n", 2);
    const char *names[2] = {"archive/data.pkl", "archive/version"};
    bytes data[2] = {pk, ver};
    bool ok = !pk.oom && !ver.oom && write_zip(path, names, data, 2);
    free(pk.p);
    free(ver.p);
    return ok;
}

/* ---- checkpoints ------------------------------------------------------------------ */

/* A moore-tiny copy whose pose_guider.safetensors is the given bytes/modification. */
static const char *broken_moore(const char *name) { return model_copy(MOORE, name, "pose_guider.safetensors"); }

TEST(errors_truncated_checkpoint) {
    NEED_POSE2VID();
    char cmd[4096], p[700];
    const char *d = broken_moore("m_trunc");
    CHECK(d);
    snprintf(p, sizeof p, "%s/pose_guider.safetensors", d);
    size_t len = 0;
    unsigned char *b = test_read_file(MOORE "/pose_guider.safetensors", &len);
    CHECK(b && len > 2000);
    bool w = test_write_file(p, b, len - 1000);
    free(b);
    CHECK(w);
    pose_cmd(cmd, sizeof cmd, d, MOORE "/inputs/ref.png", NULL, sp("trunc.webp"), NULL);
    FAILS("truncated safetensors", cmd, 1, sp("trunc.webp"), p, "file truncated: tensors cover", NULL);
    /* a .pth cut short: its zip directory (at the end) is gone */
    const char *d2 = broken_moore("m_trunc_pth");
    CHECK(d2);
    snprintf(p, sizeof p, "%s/pose_guider.pth", d2);
    CHECK(copy_mod("tests/fixtures/moore-tiny-pth/pose_guider.pth", p, 3000, -1, 0));
    pose_cmd(cmd, sizeof cmd, d2, MOORE "/inputs/ref.png", NULL, sp("trunc.webp"), NULL);
    FAILS("truncated .pth", cmd, 1, sp("trunc.webp"), p, "end of central directory not found", NULL);
}

TEST(errors_oversized_checkpoint_header) {
    NEED_POSE2VID();
    char cmd[4096], p[700];
    const char *d = broken_moore("m_hdr");
    CHECK(d);
    snprintf(p, sizeof p, "%s/pose_guider.safetensors", d);
    size_t len = 0;
    unsigned char *b = test_read_file(MOORE "/pose_guider.safetensors", &len);
    CHECK(b && len > 16);
    memset(b, 0, 8);
    b[5] = 1; /* 2^40: still a JSON header after it, so only the length is wrong */
    bool w = test_write_file(p, b, len);
    free(b);
    CHECK(w);
    pose_cmd(cmd, sizeof cmd, d, MOORE "/inputs/ref.png", NULL, sp("hdr.webp"), NULL);
    FAILS("header length over the cap", cmd, 1, sp("hdr.webp"), p,
          "header length 1099511627776 exceeds the 100000000-byte limit", NULL);
}

TEST(errors_wrong_dtype_in_checkpoint) {
    NEED_POSE2VID();
    char cmd[4096];
    const char *d = broken_moore("m_f8");
    CHECK(d && write_pose_guider(d, MOD_F8));
    pose_cmd(cmd, sizeof cmd, d, MOORE "/inputs/ref.png", NULL, sp("f8.webp"), NULL);
    FAILS("F8 weight", cmd, 1, sp("f8.webp"), "m_f8/pose_guider.safetensors: tensor 'blocks.0.weight'",
          "dtype F8_E4M3 is not supported", NULL);
    d = broken_moore("m_i32");
    CHECK(d && write_pose_guider(d, MOD_I32));
    pose_cmd(cmd, sizeof cmd, d, MOORE "/inputs/ref.png", NULL, sp("i32.webp"), NULL);
    FAILS("integer weight", cmd, 1, sp("i32.webp"), "m_i32/pose_guider.safetensors: tensor 'blocks.0.weight'",
          "has dtype I32; a floating-point type is needed", NULL);
}

TEST(errors_wrong_shape_in_checkpoint) {
    NEED_POSE2VID();
    char cmd[4096];
    const char *d = broken_moore("m_shape");
    CHECK(d && write_pose_guider(d, MOD_SHAPE));
    pose_cmd(cmd, sizeof cmd, d, MOORE "/inputs/ref.png", NULL, sp("shape.webp"), NULL);
    FAILS("wrong shape", cmd, 1, sp("shape.webp"), "m_shape/pose_guider.safetensors",
          "tensor 'blocks.0.weight' has shape [144] but", "expects [4, 4, 3, 3]");
}

TEST(errors_missing_key_in_checkpoint) {
    NEED_POSE2VID();
    char cmd[4096];
    const char *d = broken_moore("m_missing");
    CHECK(d && write_pose_guider(d, MOD_MISSING));
    pose_cmd(cmd, sizeof cmd, d, MOORE "/inputs/ref.png", NULL, sp("missing.webp"), NULL);
    FAILS("missing key", cmd, 1, sp("missing.webp"), "missing tensor 'blocks.0.weight' (shape [4, 4, 3, 3]",
          "m_missing/pose_guider.safetensors", NULL);
}

TEST(errors_extra_key_in_checkpoint) {
    NEED_POSE2VID();
    char cmd[4096];
    const char *d = broken_moore("m_extra");
    CHECK(d && write_pose_guider(d, MOD_EXTRA));
    pose_cmd(cmd, sizeof cmd, d, MOORE "/inputs/ref.png", NULL, sp("extra.webp"), NULL);
    FAILS("extra key", cmd, 1, sp("extra.webp"), "m_extra/pose_guider.safetensors: unexpected tensor 'extra.weight'",
          "1 key not part of pose_guider", NULL);
}

TEST(errors_pth_with_forbidden_pickle_global) {
    NEED_POSE2VID();
    char cmd[4096], p[700], payload[700];
    const char *d = broken_moore("m_evil");
    CHECK(d);
    snprintf(p, sizeof p, "%s/pose_guider.pth", d);
    const char *marker = sp("pwned");
    snprintf(payload, sizeof payload, "touch %s", marker);
    CHECK(write_evil_pth(p, payload));
    pose_cmd(cmd, sizeof cmd, d, MOORE "/inputs/ref.png", NULL, sp("evil.webp"), NULL);
    FAILS("os.system pickle", cmd, 1, sp("evil.webp"), "m_evil/pose_guider.pth: data.pkl",
          "pickle global 'os.system' is not allowed", "nothing is executed");
    CHECK_MSG(!exists(marker), "the pickle's payload ran: %s exists", marker);
}

TEST(errors_file_that_is_no_checkpoint) {
    NEED_POSE2VID();
    char cmd[4096], p[700];
    /* a PNG under a checkpoint's name. The message today blames the header
     * length (the PNG signature read as one); docs/errors.md asks for "not a
     * safetensors or PyTorch file". Checked here: status, file named. */
    const char *d = broken_moore("m_png");
    CHECK(d);
    snprintf(p, sizeof p, "%s/pose_guider.safetensors", d);
    CHECK(copy_mod(MOORE "/inputs/ref.png", p, 0, -1, 0));
    pose_cmd(cmd, sizeof cmd, d, MOORE "/inputs/ref.png", NULL, sp("png.webp"), NULL);
    FAILS("PNG as checkpoint", cmd, 1, sp("png.webp"), p, NULL, NULL);
    /* the pre-1.6 torch.save format (PROTO 2, LONG1 magic): refused by name */
    static const unsigned char legacy[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20,
                                           0x6a, 0xa8, 0x50, 0x19, 0x2e};
    CHECK(test_write_file(p, legacy, sizeof legacy));
    FAILS("legacy torch pickle", cmd, 1, sp("png.webp"), p, "legacy (pre-1.6) PyTorch checkpoint", NULL);
}

/* ---- model directories --------------------------------------------------------------- */

TEST(errors_model_directory_missing_or_not_a_directory) {
    NEED_POSE2VID();
    NEED_TALKING_HEAD();
    char cmd[4096];
    const char *none = sp("no_such_models");
    pose_cmd(cmd, sizeof cmd, none, MOORE "/inputs/ref.png", NULL, sp("nodir.webp"), NULL);
    FAILS("pose2vid, no model dir", cmd, 1, sp("nodir.webp"), none, "model directory not found (No such file", NULL);
    talk_cmd(cmd, sizeof cmd, none, ECHO "/inputs/speech.wav", sp("nodir.webp"), NULL);
    FAILS("talking_head, no model dir", cmd, 1, sp("nodir.webp"), none, "model directory not found", NULL);
    pose_cmd(cmd, sizeof cmd, MOORE "/model_config.json", MOORE "/inputs/ref.png", NULL, sp("nodir.webp"), NULL);
    FAILS("model dir is a file", cmd, 1, sp("nodir.webp"), "model_config.json: not a directory", NULL, NULL);
}

TEST(errors_talking_head_model_directory_missing_checkpoint) {
    NEED_TALKING_HEAD();
    char cmd[4096];
    const char *d = model_copy(ECHO, "e_nomotion", "motion_module.safetensors");
    CHECK(d);
    talk_cmd(cmd, sizeof cmd, d, ECHO "/inputs/speech.wav", sp("nomm.webp"), NULL);
    FAILS("no motion module", cmd, 1, sp("nomm.webp"), d, "missing checkpoint (looked for motion_module.safetensors",
          NULL);
    d = model_copy(ECHO, "e_nowhisper", "audio_processor/whisper_tiny.safetensors");
    CHECK(d);
    talk_cmd(cmd, sizeof cmd, d, ECHO "/inputs/speech.wav", sp("nomm.webp"), NULL);
    FAILS("no whisper", cmd, 1, sp("nomm.webp"), "audio_processor: missing weights (looked for whisper_tiny", NULL,
          NULL);
    /* without face_locator the directory is taken for a pose model, and the
     * message names pose_guider (poor, see docs/errors.md); checked: the
     * directory is named and it is a missing checkpoint */
    d = model_copy(ECHO, "e_noface", "face_locator.safetensors");
    CHECK(d);
    talk_cmd(cmd, sizeof cmd, d, ECHO "/inputs/speech.wav", sp("nomm.webp"), NULL);
    FAILS("no face locator", cmd, 1, sp("nomm.webp"), d, "missing checkpoint", NULL);
}

TEST(errors_model_of_the_other_kind) {
    NEED_POSE2VID();
    char cmd[4096];
    pose_cmd(cmd, sizeof cmd, ECHO, MOORE "/inputs/ref.png", NULL, sp("kind.webp"), NULL);
    FAILS("EchoMimic model in pose2vid", cmd, 1, sp("kind.webp"), "is a talking-head model, not a pose-animation model",
          NULL, NULL);
}

/* ---- pictures ---------------------------------------------------------------------- */

TEST(errors_truncated_png) {
    NEED_POSE2VID();
#ifndef ANIM_WITH_PNG
    SKIP("built without libpng");
#endif
    char cmd[4096];
    const char *p = sp("half.png");
    size_t len = 0;
    unsigned char *b = test_read_file(MOORE "/inputs/ref.png", &len);
    CHECK(b && len > 100);
    bool w = test_write_file(p, b, len / 2);
    free(b);
    CHECK(w);
    pose_cmd(cmd, sizeof cmd, MOORE, p, NULL, sp("tpng.webp"), NULL);
    FAILS("truncated PNG as --ref", cmd, 1, sp("tpng.webp"), "half.png: PNG: file is truncated", NULL, NULL);
    /* the same picture among the poses */
    const char *pd = sp("poses_bad");
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s' && cp " MOORE "/inputs/pose_000.png '%s/' && cp '%s' '%s/pose_001.png'",
             pd, pd, pd, p, pd);
    CHECK(system(cmd) == 0);
    pose_cmd(cmd, sizeof cmd, MOORE, MOORE "/inputs/ref.png", pd, sp("tpng.webp"), NULL);
    FAILS("truncated PNG among the poses", cmd, 1, sp("tpng.webp"), "pose_001.png: PNG: file is truncated", NULL,
          NULL);
}

TEST(errors_truncated_and_corrupt_jpeg) {
    NEED_POSE2VID();
#ifndef ANIM_WITH_JPEG
    SKIP("built without libjpeg");
#endif
    char cmd[4096];
    size_t len = 0;
    unsigned char *b = test_read_file(IMGS "/j420.jpg", &len);
    CHECK(b && len > 700);
    /* the markers of j420.jpg, all before the scan: SOF0 at 158, DHT at 177 */
    bool layout = b[158] == 0xFF && b[159] == 0xC0 && b[177] == 0xFF && b[178] == 0xC4;
    free(b);
    CHECK_MSG(layout, "j420.jpg changed: SOF0/DHT not where this test expects them");
    CHECK(copy_mod(IMGS "/j420.jpg", sp("half.jpg"), len / 2, -1, 0));
    pose_cmd(cmd, sizeof cmd, MOORE, sp("half.jpg"), NULL, sp("jpg.webp"), NULL);
    FAILS("truncated JPEG", cmd, 1, sp("jpg.webp"), "half.jpg: JPEG: file is truncated", NULL, NULL);
    CHECK(copy_mod(IMGS "/j420.jpg", sp("badhuff.jpg"), 0, 177 + 4, 0x7F)); /* Huffman table class/index 7/15 */
    pose_cmd(cmd, sizeof cmd, MOORE, sp("badhuff.jpg"), NULL, sp("jpg.webp"), NULL);
    FAILS("corrupt Huffman table", cmd, 1, sp("jpg.webp"), "badhuff.jpg: JPEG: Bogus DHT index", NULL, NULL);
    CHECK(copy_mod(IMGS "/j420.jpg", sp("lossless.jpg"), 0, 159, 0xC3)); /* SOF3: lossless JPEG */
    pose_cmd(cmd, sizeof cmd, MOORE, sp("lossless.jpg"), NULL, sp("jpg.webp"), NULL);
    FAILS("lossless JPEG", cmd, 1, sp("jpg.webp"), "lossless.jpg: JPEG: Unsupported JPEG process", NULL, NULL);
}

TEST(errors_corrupt_webp) {
    NEED_POSE2VID();
#ifndef ANIM_WITH_WEBP
    SKIP("built without libwebp");
#endif
    char cmd[4096];
    /* RIFF/WEBP around a VP8 chunk of noise */
    uint8_t b[38];
    memcpy(b, "RIFF\x1e\0\0\0WEBPVP8 \x12\0\0\0", 20);
    memset(b + 20, 0x55, 18);
    CHECK(test_write_file(sp("vp8garbage.webp"), b, sizeof b));
    pose_cmd(cmd, sizeof cmd, MOORE, sp("vp8garbage.webp"), NULL, sp("webp.webp"), NULL);
    FAILS("VP8 noise", cmd, 1, sp("webp.webp"), "vp8garbage.webp: WebP: malformed file", NULL, NULL);
    /* a bitstream that does not decode (Pillow refuses it too) */
    pose_cmd(cmd, sizeof cmd, MOORE, IMGS "/wbad.webp", NULL, sp("webp.webp"), NULL);
    FAILS("undecodable WebP", cmd, 1, sp("webp.webp"), "wbad.webp: WebP: the picture does not decode (corrupt data)",
          NULL, NULL);
    /* cut short */
    CHECK(copy_mod(IMGS "/wlossy.webp", sp("half.webp"), 400, -1, 0));
    pose_cmd(cmd, sizeof cmd, MOORE, sp("half.webp"), NULL, sp("webp.webp"), NULL);
    FAILS("truncated WebP", cmd, 1, sp("webp.webp"), "half.webp: WebP: file is truncated", NULL, NULL);
}

TEST(errors_picture_of_absurd_size) {
    NEED_POSE2VID();
    char cmd[4096], limited[4300];
    /* The decoders refuse a side over 16384 from the header, before any pixel
     * memory is allocated. Outside the sanitizer build that is checked by
     * running under a 600 MB data limit: 20000x20000 RGB would need 1.2 GB,
     * so an allocation first would end in "out of memory", not this message. */
#if defined(__SANITIZE_ADDRESS__)
    const char *ulimit = "";
#else
    const char *ulimit = "ulimit -d 614400; ";
#endif
#ifdef ANIM_WITH_PNG
    CHECK(write_png_header_only(sp("huge.png"), 20000, 20000));
    pose_cmd(cmd, sizeof cmd, MOORE, sp("huge.png"), NULL, sp("huge.webp"), NULL);
    snprintf(limited, sizeof limited, "%s%s", ulimit, cmd);
    FAILS("20000x20000 PNG", limited, 1, sp("huge.webp"),
          "huge.png: PNG: picture is 20000x20000, larger than the 16384x16384 limit", NULL, NULL);
#endif
    /* a file over the 1 GiB picture-file cap is refused from its size, before
     * it is read (a sparse file: no disk space used) */
    const char *big = sp("sparse.png");
    FILE *f = fopen(big, "wb");
    CHECK(f);
    bool made = fwrite("\x89PNG\r\n\x1a\n", 1, 8, f) == 8 && ftruncate(fileno(f), ((off_t)1 << 30) + 1) == 0;
    fclose(f);
    CHECK(made);
    pose_cmd(cmd, sizeof cmd, MOORE, big, NULL, sp("huge.webp"), NULL);
    snprintf(limited, sizeof limited, "%s%s", ulimit, cmd);
    FAILS("1 GiB + 1 picture file", limited, 1, sp("huge.webp"),
          "sparse.png: file is 1073741825 bytes, more than the 1073741824-byte limit for a picture", NULL, NULL);
    unlink(big);
#ifdef ANIM_WITH_JPEG
    /* SOF0 of j420.jpg at 158: height at +5, width at +7 (big-endian) */
    size_t len = 0;
    unsigned char *b = test_read_file(IMGS "/j420.jpg", &len);
    CHECK(b && len > 170 && b[158] == 0xFF && b[159] == 0xC0);
    b[163] = 0x4E; b[164] = 0x20; b[165] = 0x4E; b[166] = 0x20;
    bool w = test_write_file(sp("huge.jpg"), b, len);
    free(b);
    CHECK(w);
    pose_cmd(cmd, sizeof cmd, MOORE, sp("huge.jpg"), NULL, sp("huge.webp"), NULL);
    snprintf(limited, sizeof limited, "%s%s", ulimit, cmd);
    FAILS("20000x20000 JPEG", limited, 1, sp("huge.webp"),
          "huge.jpg: JPEG: picture is 20000x20000, larger than the 16384x16384 limit", NULL, NULL);
#endif
}

TEST(errors_file_that_is_no_picture) {
    NEED_POSE2VID();
    char cmd[4096];
    CHECK(test_write_file(sp("text.png"), "hello, this is text\n", 20));
    pose_cmd(cmd, sizeof cmd, MOORE, sp("text.png"), NULL, sp("nopic.webp"), NULL);
    FAILS("text as picture", cmd, 1, sp("nopic.webp"), "text.png: not a PNG, JPEG or WebP file (starts with 'hell')",
          NULL, NULL);
    CHECK(test_write_file(sp("anim.png"), "GIF89a\x01\0\x01\0\0\0\0;", 14));
    pose_cmd(cmd, sizeof cmd, MOORE, sp("anim.png"), NULL, sp("nopic.webp"), NULL);
    FAILS("GIF as picture", cmd, 1, sp("nopic.webp"), "anim.png: not a PNG, JPEG or WebP file",
          "looks like a GIF picture", NULL);
    CHECK(test_write_file(sp("empty.png"), "", 0));
    pose_cmd(cmd, sizeof cmd, MOORE, sp("empty.png"), NULL, sp("nopic.webp"), NULL);
    FAILS("empty file as picture", cmd, 1, sp("nopic.webp"), "empty.png: empty file, not a picture", NULL, NULL);
    pose_cmd(cmd, sizeof cmd, MOORE, MOORE "/inputs", NULL, sp("nopic.webp"), NULL);
    FAILS("directory as picture", cmd, 1, sp("nopic.webp"), "inputs: not a regular file", NULL, NULL);
}

TEST(errors_poses_directory_missing_or_empty) {
    NEED_POSE2VID();
    char cmd[4096];
    const char *none = sp("no_such_poses");
    pose_cmd(cmd, sizeof cmd, MOORE, MOORE "/inputs/ref.png", none, sp("np.webp"), NULL);
    FAILS("missing --poses", cmd, 1, sp("np.webp"), "--poses", "no_such_poses: No such file or directory", NULL);
    const char *empty = sp("empty_poses");
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s' && echo notes > '%s/README.txt'", empty, empty, empty);
    CHECK(system(cmd) == 0);
    pose_cmd(cmd, sizeof cmd, MOORE, MOORE "/inputs/ref.png", empty, sp("np.webp"), NULL);
    FAILS("no pose files", cmd, 1, sp("np.webp"), "empty_poses: no pose pictures or keypoint JSON files", NULL, NULL);
}

/* ---- audio ---------------------------------------------------------------------------- */

TEST(errors_wav_with_unknown_codec) {
    NEED_TALKING_HEAD();
    char cmd[4096];
    CHECK(write_wav(sp("mp3.wav"), 0x55, 16, 3200));
    talk_cmd(cmd, sizeof cmd, ECHO, sp("mp3.wav"), sp("o_mp3.webp"), NULL);
    FAILS("MP3 in WAV", cmd, 1, sp("o_mp3.webp"), "mp3.wav: WAVE format tag 0x0055 (MPEG Layer 3 (MP3)) is not supported",
          "ffmpeg -i in -c:a pcm_s16le", NULL);
}

TEST(errors_wav_of_zero_length) {
    NEED_TALKING_HEAD();
    char cmd[4096];
    CHECK(write_wav(sp("zero.wav"), 1, 16, 0));
    talk_cmd(cmd, sizeof cmd, ECHO, sp("zero.wav"), sp("o_zero.webp"), NULL);
    FAILS("empty data chunk", cmd, 1, sp("o_zero.webp"), "zero.wav: no audio samples ('data' chunk holds 0 bytes", NULL,
          NULL);
}

TEST(errors_audio_that_is_not_wav) {
    NEED_TALKING_HEAD();
    char cmd[4096];
    CHECK(test_write_file(sp("speech.mp3"), "ID3\x04\0\0\0\0\0\0not really mp3", 24));
    talk_cmd(cmd, sizeof cmd, ECHO, sp("speech.mp3"), sp("aud.webp"), NULL);
    FAILS("ID3/MP3 as audio", cmd, 1, sp("aud.webp"), "speech.mp3: not a WAV file (starts with \"ID3", NULL, NULL);
    CHECK(test_write_file(sp("empty.wav"), "", 0));
    talk_cmd(cmd, sizeof cmd, ECHO, sp("empty.wav"), sp("aud.webp"), NULL);
    FAILS("empty file as audio", cmd, 1, sp("aud.webp"), "empty.wav: truncated RIFF header (0 bytes", NULL, NULL);
    /* a directory: the message today is only "read error" (poor, see docs/errors.md) */
    talk_cmd(cmd, sizeof cmd, ECHO, ECHO "/inputs", sp("aud.webp"), NULL);
    FAILS("directory as audio", cmd, 1, sp("aud.webp"), ECHO "/inputs", NULL, NULL);
    talk_cmd(cmd, sizeof cmd, ECHO, sp("no_such.wav"), sp("aud.webp"), NULL);
    FAILS("missing audio", cmd, 1, sp("aud.webp"), "no_such.wav: cannot open: No such file or directory", NULL, NULL);
}

/* ---- keypoint JSON poses --------------------------------------------------------------------- */

/* A --poses directory holding one keypoint file with `doc`. */
static const char *json_poses(const char *name, const char *doc) {
    const char *d = sp(name);
    char cmd[1024], p[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", d, d);
    if (system(cmd) != 0) return NULL;
    snprintf(p, sizeof p, "%s/pose_000.json", d);
    return test_write_file(p, doc, strlen(doc)) ? d : NULL;
}

/* 18 OpenPose body points (x, y, confidence), the first value replaced by `first` */
static void body_doc(char *doc, size_t cap, const char *first) {
    size_t o = (size_t)snprintf(doc, cap, "{\"canvas_width\":64,\"canvas_height\":64,\"people\":[{\"pose_keypoints_2d\":[%s",
                                first);
    for (int i = 1; i < 54; i++) o += (size_t)snprintf(doc + o, cap - o, ",%d", i % 3 == 2 ? 1 : 10 + i);
    snprintf(doc + o, cap - o, "]}]}");
}

TEST(errors_pose_json_wrong_array_lengths) {
    NEED_POSE2VID();
    char cmd[4096], doc[2048];
    const char *d = json_poses("pj_len", "{\"canvas_width\":64,\"canvas_height\":64,\"people\":[{\"pose_keypoints_2d\":[1,2,3]}]}");
    CHECK(d);
    pose_cmd(cmd, sizeof cmd, MOORE, MOORE "/inputs/ref.png", d, sp("pj.webp"), NULL);
    FAILS("3 body values", cmd, 1, sp("pj.webp"), "pose_000.json: people[0].pose_keypoints_2d has 3 values",
          "54 (or 75 for BODY_25) expected", NULL);
    size_t o = (size_t)snprintf(doc, sizeof doc, "{\"canvas_width\":64,\"canvas_height\":64,\"people\":[{\"hand_left_keypoints_2d\":[1");
    for (int i = 1; i < 60; i++) o += (size_t)snprintf(doc + o, sizeof doc - o, ",1");
    snprintf(doc + o, sizeof doc - o, "]}]}");
    CHECK((d = json_poses("pj_hand", doc)));
    pose_cmd(cmd, sizeof cmd, MOORE, MOORE "/inputs/ref.png", d, sp("pj.webp"), NULL);
    FAILS("60 hand values", cmd, 1, sp("pj.webp"), "people[0].hand_left_keypoints_2d has 60 values; 63 expected",
          NULL, NULL);
}

TEST(errors_pose_json_nan_and_huge_coordinates) {
    NEED_POSE2VID();
    char cmd[4096], doc[2048];
    /* JSON has no NaN literal and 1e400 overflows a double: both make the file
     * invalid JSON; the message names the file, line and column */
    const char *firsts[2] = {"NaN", "1e400"};
    for (int i = 0; i < 2; i++) {
        body_doc(doc, sizeof doc, firsts[i]);
        const char *d = json_poses(i ? "pj_huge" : "pj_nan", doc);
        CHECK(d);
        pose_cmd(cmd, sizeof cmd, MOORE, MOORE "/inputs/ref.png", d, sp("pj.webp"), NULL);
        FAILS(firsts[i], cmd, 1, sp("pj.webp"), "pose_000.json: line 1, column", NULL, NULL);
    }
    /* a finite coordinate far off the canvas is a range error naming the field */
    body_doc(doc, sizeof doc, "1e30");
    const char *d = json_poses("pj_far", doc);
    CHECK(d);
    pose_cmd(cmd, sizeof cmd, MOORE, MOORE "/inputs/ref.png", d, sp("pj.webp"), NULL);
    FAILS("1e30", cmd, 1, sp("pj.webp"), "pose_000.json: people[0].pose_keypoints_2d[0] = 1e+30 is out of range",
          NULL, NULL);
    /* render_poses, the previewing tool, gives the parser's reason */
    const char *rp = bin("render_poses");
    if (rp) {
        body_doc(doc, sizeof doc, "NaN");
        CHECK((d = json_poses("pj_nan2", doc)));
        snprintf(cmd, sizeof cmd, "%s '%s' '%s'", rp, d, sp("pj_out"));
        FAILS("render_poses NaN", cmd, 1, sp("pj_out/pose_000.png"), "pose_000.json: line 1, column",
              "NaN and Infinity are not valid JSON numbers", NULL);
    }
}

/* ---- numbers on the command line and in the API ------------------------------------------ */

TEST(errors_nonpositive_sizes_frames_steps_on_the_command_line) {
    NEED_POSE2VID();
    NEED_TALKING_HEAD();
    char cmd[4096];
    static const struct { const char *flag, *want; } cases[] = {
        {"-W 0", "-W '0': must be an integer in 8..16384"},
        {"-H -8", "-H '-8': must be an integer in 8..16384"},
        {"-L 0", "-L '0': must be an integer in 1..1"},
        {"--steps 0", "--steps '0': must be an integer in 1..1000"},
        {"--steps -3", "--steps '-3': must be an integer in 1..1000"},
        {"-W 64x", "-W '64x': must be an integer in 8..16384"},
        {"-W 99999999999999999999", "must be an integer in 8..16384"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pose_cmd(cmd, sizeof cmd, MOORE, MOORE "/inputs/ref.png", NULL, sp("num.webp"), cases[i].flag);
        FAILS(cases[i].flag, cmd, 2, sp("num.webp"), "pose2vid: ", cases[i].want, NULL);
        talk_cmd(cmd, sizeof cmd, ECHO, ECHO "/inputs/speech.wav", sp("num.webp"), cases[i].flag);
        FAILS(cases[i].flag, cmd, 2, sp("num.webp"), "talking_head: ", cases[i].want, NULL);
    }
    pose_cmd(cmd, sizeof cmd, MOORE, MOORE "/inputs/ref.png", NULL, sp("num.webp"), "--context-frames 4 --context-overlap 4");
    FAILS("overlap = frames", cmd, 2, sp("num.webp"), "--context-overlap 4 must be smaller than --context-frames 4",
          NULL, NULL);
    pose_cmd(cmd, sizeof cmd, MOORE, MOORE "/inputs/ref.png", NULL, sp("num.webp"), "--cfg nan");
    FAILS("--cfg nan", cmd, 2, sp("num.webp"), "--cfg 'nan': must be a number in 0..100", NULL, NULL);
    pose_cmd(cmd, sizeof cmd, MOORE, MOORE "/inputs/ref.png", NULL, sp("num.webp"), "--frobnicate");
    FAILS("unknown option", cmd, 2, sp("num.webp"), "unknown option '--frobnicate'", NULL, NULL);
}

static anim_ctx *quiet_cpu_ctx(void) {
    anim_ctx_params cp;
    anim_ctx_params_default(&cp);
    cp.backend = ANIM_BACKEND_CPU;
    cp.log_level = ANIM_LOG_ERROR;
    anim_ctx *ctx = NULL;
    return anim_ctx_create(&cp, &ctx) == ANIM_OK ? ctx : NULL;
}

/* expr must give ANIM_E_INVALID_ARG with `field` in the message, and an empty video */
#define EXPECT_BAD_ARG(ctx, expr, v, field)                                                              \
    do {                                                                                                 \
        anim_status s_ = (expr);                                                                         \
        CHECK_MSG(s_ == ANIM_E_INVALID_ARG, "%s: status %d (%s)", field, (int)s_, anim_ctx_last_error(ctx)); \
        CHECK_CONTAINS(anim_ctx_last_error(ctx), field);                                                 \
        CHECK_MSG((v).rgb == NULL && (v).n_frames == 0, "%s: a video came back", field);                \
    } while (0)

TEST(errors_api_pose_params_out_of_range) {
    anim_ctx *ctx = quiet_cpu_ctx();
    CHECK(ctx);
    anim_picture ref = {0}, poses[2] = {{0}};
    CHECK(anim_ctx_load_models(ctx, MOORE) == ANIM_OK);
    CHECK(anim_picture_read(ctx, MOORE "/inputs/ref.png", &ref) == ANIM_OK);
    CHECK(anim_picture_read(ctx, MOORE "/inputs/pose_000.png", &poses[0]) == ANIM_OK);
    CHECK(anim_picture_read(ctx, MOORE "/inputs/pose_001.png", &poses[1]) == ANIM_OK);
    anim_pose_params pp;
    anim_video v = {0};
    static const struct { int w, h, frames, steps; float cfg; const char *field; } cases[] = {
        {0, 64, 0, 1, 3.5f, "width x height 0 x 64"},
        {64, -8, 0, 1, 3.5f, "width x height 64 x -8"},
        {64, 64, 0, 0, 3.5f, "steps 0 must be in 1..1000"},
        {64, 64, 0, -2, 3.5f, "steps -2"},
        {64, 64, -1, 1, 3.5f, "frames -1"},
        {64, 64, 3, 1, 3.5f, "3 frames asked for but only 2 pose pictures"},
        {64, 64, 0, 1, NAN, "guidance scale nan"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        anim_pose_params_default(&pp);
        pp.width = cases[i].w;
        pp.height = cases[i].h;
        pp.frames = cases[i].frames;
        pp.steps = cases[i].steps;
        pp.guidance = cases[i].cfg;
        EXPECT_BAD_ARG(ctx, anim_pose2vid(ctx, &pp, &ref, poses, 2, &v), v, cases[i].field);
    }
    anim_pose_params_default(&pp);
    pp.width = pp.height = 64;
    pp.steps = 1;
    pp.context_frames = 0;
    EXPECT_BAD_ARG(ctx, anim_pose2vid(ctx, &pp, &ref, poses, 2, &v), v, "context windows of 0 frames");
    anim_pose_params_default(&pp);
    pp.struct_size = 4;
    EXPECT_BAD_ARG(ctx, anim_pose2vid(ctx, &pp, &ref, poses, 2, &v), v, "struct_size");
    anim_picture_free(&ref);
    anim_picture_free(&poses[0]);
    anim_picture_free(&poses[1]);
    anim_ctx_free(ctx);
}

TEST(errors_api_talk_params_out_of_range) {
    anim_ctx *ctx = quiet_cpu_ctx();
    CHECK(ctx);
    anim_picture portrait = {0};
    CHECK(anim_ctx_load_models(ctx, ECHO) == ANIM_OK);
    CHECK(anim_picture_read(ctx, ECHO "/inputs/portrait.png", &portrait) == ANIM_OK);
    anim_talk_params tp;
    anim_video v = {0};
    static const struct { int w, h, frames; double fps; const char *field; } cases[] = {
        {0, 64, 4, 24, "width x height 0 x 64"},
        {64, -8, 4, 24, "width x height 64 x -8"},
        {64, 64, -1, 24, "frames -1"},
        {64, 64, 4, 0, "fps 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        anim_talk_params_default(&tp);
        tp.width = cases[i].w;
        tp.height = cases[i].h;
        tp.frames = cases[i].frames;
        tp.fps = cases[i].fps;
        tp.steps = 1;
        EXPECT_BAD_ARG(ctx, anim_talking_head(ctx, &tp, &portrait, ECHO "/inputs/speech.wav", &v), v, cases[i].field);
    }
    anim_talk_params_default(&tp);
    tp.width = tp.height = 64;
    tp.steps = 1001;
    EXPECT_BAD_ARG(ctx, anim_talking_head(ctx, &tp, &portrait, ECHO "/inputs/speech.wav", &v), v, "steps 1001");
    /* face boxes: empty, not finite, off the portrait */
    static const struct { float box[4]; const char *field; } boxes[] = {
        {{10, 10, 5, 20}, "face box (--face-box) 10,10,5,20: need X0 < X1 and Y0 < Y1"},
        {{NAN, 10, 20, 20}, "face box (--face-box): X0 is not finite"},
        {{500, 500, 600, 600}, "lies outside the"},
    };
    for (size_t i = 0; i < sizeof boxes / sizeof boxes[0]; i++) {
        anim_talk_params_default(&tp);
        tp.width = tp.height = 64;
        tp.frames = 4;
        tp.steps = 1;
        tp.has_face_box = true;
        memcpy(tp.face_box, boxes[i].box, sizeof tp.face_box);
        EXPECT_BAD_ARG(ctx, anim_talking_head(ctx, &tp, &portrait, ECHO "/inputs/speech.wav", &v), v, boxes[i].field);
    }
    anim_picture_free(&portrait);
    anim_ctx_free(ctx);
}

/* ---- --noise ------------------------------------------------------------------------------- */

TEST(errors_noise_of_the_wrong_shape_or_kind) {
    NEED_POSE2VID();
    NEED_TALKING_HEAD();
    char cmd[4096];
    /* moore-tiny's noise is [1, 4, 4, 8, 8]: 5 frames need [1, 4, 5, 8, 8] */
    talk_cmd(cmd, sizeof cmd, ECHO, ECHO "/inputs/speech.wav", sp("noise.webp"),
             "-L 5 --noise " MOORE "/inputs/noise.safetensors");
    FAILS("talking_head noise shape", cmd, 1, sp("noise.webp"),
          "noise.safetensors: tensor 'latents' has shape [1, 4, 4, 8, 8] but", "need [1, 4, 5, 8, 8]", NULL);
    pose_cmd(cmd, sizeof cmd, MOORE, MOORE "/inputs/ref.png", NULL, sp("noise.webp"),
             "-W 128 --noise " MOORE "/inputs/noise.safetensors");
    FAILS("pose2vid noise width", cmd, 1, sp("noise.webp"), "has shape [1, 4, 4, 8, 8] but",
          "need [1, 4, 4, 8, 16]", NULL);
    pose_cmd(cmd, sizeof cmd, MOORE, MOORE "/inputs/ref.png", NULL, sp("noise.webp"),
             "--noise " MOORE "/pose_guider.safetensors");
    FAILS("no latents tensor", cmd, 1, sp("noise.webp"), "pose_guider.safetensors: no tensor 'latents'", NULL, NULL);
    /* a latents tensor of integers */
    static int32_t ints[4 * 4 * 8 * 8];
    st_ent e = {"latents", "I32", 5, {1, 4, 4, 8, 8}, ints, sizeof ints};
    CHECK(st_write_ents(sp("int_noise.safetensors"), &e, 1));
    char extra[700];
    snprintf(extra, sizeof extra, "--noise '%s'", sp("int_noise.safetensors"));
    pose_cmd(cmd, sizeof cmd, MOORE, MOORE "/inputs/ref.png", NULL, sp("noise.webp"), extra);
    FAILS("integer latents", cmd, 1, sp("noise.webp"), "tensor 'latents' is I32; F32 or F16 expected", NULL, NULL);
    snprintf(extra, sizeof extra, "--noise '%s'", sp("no_noise.safetensors"));
    pose_cmd(cmd, sizeof cmd, MOORE, MOORE "/inputs/ref.png", NULL, sp("noise.webp"), extra);
    FAILS("missing noise file", cmd, 1, sp("noise.webp"), "no_noise.safetensors: cannot open: No such file", NULL,
          NULL);
    /* a picture given as --noise: named, but blamed on the header length (poor, see docs/errors.md) */
    pose_cmd(cmd, sizeof cmd, MOORE, MOORE "/inputs/ref.png", NULL, sp("noise.webp"), "--noise " MOORE "/inputs/ref.png");
    FAILS("PNG as noise", cmd, 1, sp("noise.webp"), "ref.png: ", NULL, NULL);
}

/* ---- output paths --------------------------------------------------------------------------- */

TEST(errors_unwritable_output_path) {
    NEED_POSE2VID();
    NEED_TALKING_HEAD();
    /* tests may run as root, which ignores permission bits: the unwritable
     * place is a path under a regular file (ENOTDIR for everyone) */
    char cmd[4096], out[700];
    const char *file = sp("plain_file");
    CHECK(test_write_file(file, "x", 1));
    snprintf(out, sizeof out, "%s/video.webp", file);
    pose_cmd(cmd, sizeof cmd, MOORE, MOORE "/inputs/ref.png", NULL, out, NULL);
    /* the examples check output paths before the run (a bad --out fails in a second, not after hours) */
    FAILS("WebP under a file", cmd, 2, NULL, "plain_file/video.webp': its directory does not exist", NULL, NULL);
    snprintf(out, sizeof out, "%s/frames/a", file);
    pose_cmd(cmd, sizeof cmd, MOORE, MOORE "/inputs/ref.png", NULL, out, NULL);
    FAILS("frames under a file", cmd, 2, NULL, "plain_file/frames/a': its parent is not an existing directory", NULL,
          NULL);
    pose_cmd(cmd, sizeof cmd, MOORE, MOORE "/inputs/ref.png", NULL, file, NULL);
    FAILS("frames dir is a file", cmd, 2, NULL, "plain_file': exists and is not a directory", NULL, NULL);
    snprintf(out, sizeof out, "--save-latents '%s/l.safetensors'", file);
    pose_cmd(cmd, sizeof cmd, MOORE, MOORE "/inputs/ref.png", NULL, sp("lat.webp"), out);
    FAILS("latents under a file", cmd, 2, sp("lat.webp"), "plain_file/l.safetensors': its directory does not exist",
          NULL, NULL);
    snprintf(out, sizeof out, "%s/talk.webp", file);
    talk_cmd(cmd, sizeof cmd, ECHO, ECHO "/inputs/speech.wav", out, NULL);
    FAILS("talking head under a file", cmd, 2, NULL, "plain_file/talk.webp': its directory does not exist", NULL, NULL);
    /* the output name taken by a directory: the rename fails, the temporary is removed */
    const char *taken = sp("taken.webp");
    CHECK(mkdir(taken, 0755) == 0);
    pose_cmd(cmd, sizeof cmd, MOORE, MOORE "/inputs/ref.png", NULL, taken, NULL);
    FAILS("output name is a directory", cmd, 1, NULL, "taken.webp: cannot rename", "Is a directory", NULL);
    glob_t g;
    char pat[700];
    snprintf(pat, sizeof pat, "%s.*", taken);
    int gr = glob(pat, 0, NULL, &g);
    if (gr == 0) globfree(&g);
    CHECK_MSG(gr == GLOB_NOMATCH, "a temporary %s was left behind", pat);
    /* the file itself is untouched */
    size_t n = 0;
    unsigned char *b = test_read_file(file, &n);
    CHECK(b && n == 1 && b[0] == 'x');
    free(b);
}

TEST(errors_api_video_write_unwritable) {
    anim_ctx *ctx = quiet_cpu_ctx();
    CHECK(ctx && scratch());
    uint8_t px[8 * 8 * 3] = {0};
    anim_video v = {1, 8, 8, px, 30, NULL, 0, 0};
    const char *file = sp("plain_file_api");
    CHECK(test_write_file(file, "x", 1));
    char out[700];
    snprintf(out, sizeof out, "%s/v.webp", file);
#ifdef ANIM_WITH_WEBP
    CHECK(anim_video_write(ctx, &v, out, NULL) == ANIM_E_IO);
    CHECK_CONTAINS(anim_ctx_last_error(ctx), "plain_file_api/v.webp");
    CHECK_CONTAINS(anim_ctx_last_error(ctx), "Not a directory");
#endif
    snprintf(out, sizeof out, "%s/frames", file);
    CHECK(anim_video_write(ctx, &v, out, NULL) == ANIM_E_IO);
    CHECK_CONTAINS(anim_ctx_last_error(ctx), "plain_file_api/frames: cannot create directory: Not a directory");
    CHECK(anim_video_write(ctx, &v, "", NULL) == ANIM_E_INVALID_ARG);
    CHECK_CONTAINS(anim_ctx_last_error(ctx), "output path is empty");
    anim_ctx_free(ctx);
}

/* ---- --face-box -------------------------------------------------------------------------------- */

TEST(errors_face_box_malformed) {
    NEED_TALKING_HEAD();
    char cmd[4096];
    static const char *boxes[] = {"1,2,3", "a,b,c,d", "1,2,3,4,5", "nan,0,5,5", "0,0,inf,5", "0,0,1e7,5", ",,,",
                                  "5,5,5,9", "1;2;3;4", ""};
    for (size_t i = 0; i < sizeof boxes / sizeof boxes[0]; i++) {
        char extra[128], want[128];
        snprintf(extra, sizeof extra, "--face-box '%s'", boxes[i]);
        snprintf(want, sizeof want, "--face-box '%s': must be X0,Y0,X1,Y1 with X0 < X1 and Y0 < Y1", boxes[i]);
        talk_cmd(cmd, sizeof cmd, ECHO, ECHO "/inputs/speech.wav", sp("box.webp"), extra);
        FAILS(boxes[i], cmd, 2, sp("box.webp"), want, NULL, NULL);
    }
}
