#!/usr/bin/env python3
"""make_fuzz_seeds.py - (re)build the seed corpora of the libFuzzer harnesses
(tests/fuzz/corpus_<name>/, see tests/fuzz/README.md) from the fixtures and
from hand-made inputs. Python standard library only; deterministic (same
bytes on every run), so re-running it leaves git clean.

    python3 tools/make_fuzz_seeds.py            # from the repository root

Seeds are small on purpose (libFuzzer mutates them; big ones only slow each
exec). Generated here:
  corpus_pth        torch.save-layout zips: pickles written by Python's pickle
                    through fake torch globals, storages, views, wrappers,
                    zip64, 64-byte aligned data, and malformed archives
  corpus_pickle     the data.pkl alone (fuzz_pickle.c wraps it in a fixed
                    zip whose storages are '0' (131072 B) and '1'..'4'
                    (16, 64, 1024, 4096 B)), plus the pose guider fixture's
                    real torch-written data.pkl
  corpus_image      fixture JPEG/WebP/PNG files + PNGs of every colour type
                    and bit depth made here, + malformed PNGs
  corpus_wav        WAVs of every codec wav.h reads, containers, chunk
                    layouts, and malformed ones
  corpus_pose_json  the pose-render fixture inputs + hand-made variants
  corpus_config     every config / model_config / dims JSON of the fixtures,
                    small real manifests (compacted), hand-made variants
  corpus_json       a few extra documents next to the original three
Files already in a corpus directory and not written here are left alone
(corpus_safetensors is not touched: its seeds were made by hand).
"""
import collections
import io
import json
import math
import os
import pickle
import struct
import sys
import types
import zipfile
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FUZZ = os.path.join(ROOT, "tests", "fuzz")
FIX = os.path.join(ROOT, "tests", "fixtures")


def out(corpus, name, data):
    d = os.path.join(FUZZ, "corpus_" + corpus)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def fixture(*parts):
    with open(os.path.join(FIX, *parts), "rb") as f:
        return f.read()


# ---- fake torch globals, so that pickle writes what torch.save writes ------

torch = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")
sys.modules["torch"] = torch
sys.modules["torch._utils"] = torch_utils
torch._utils = torch_utils

STORAGE_TYPES = {}
for _n in ["FloatStorage", "HalfStorage", "BFloat16Storage", "DoubleStorage", "LongStorage", "IntStorage",
           "ShortStorage", "CharStorage", "ByteStorage", "BoolStorage"]:
    _c = type(_n, (), {})
    _c.__module__ = "torch"
    setattr(torch, _n, _c)
    STORAGE_TYPES[_n] = _c
ELEM = {"FloatStorage": 4, "HalfStorage": 2, "BFloat16Storage": 2, "DoubleStorage": 8, "LongStorage": 8,
        "IntStorage": 4, "ShortStorage": 2, "CharStorage": 1, "ByteStorage": 1, "BoolStorage": 1}


def _rebuild_tensor_v2(*a):
    raise AssertionError


def _rebuild_parameter(*a):
    raise AssertionError


for _f in (_rebuild_tensor_v2, _rebuild_parameter):
    _f.__module__ = "torch._utils"
    _f.__qualname__ = _f.__name__
    setattr(torch_utils, _f.__name__, _f)


class Storage:
    def __init__(self, stype, key, numel):
        self.stype, self.key, self.numel = stype, key, numel


class Tensor:
    def __init__(self, storage, offset, size, stride=None, param=False):
        if stride is None:
            stride, s = [], 1
            for n in reversed(size):
                stride.insert(0, s)
                s *= n
        self.storage, self.offset, self.size, self.stride, self.param = storage, offset, size, stride, param

    def __reduce_ex__(self, proto):
        t = (_rebuild_tensor_v2,
             (self.storage, self.offset, tuple(self.size), tuple(self.stride), False, collections.OrderedDict()))
        if self.param:
            inner = Tensor(self.storage, self.offset, self.size, self.stride)
            return (_rebuild_parameter, (inner, True, collections.OrderedDict()))
        return t


class TorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", STORAGE_TYPES[obj.stype], obj.key, "cpu", obj.numel)
        return None


def torch_pickle(obj, protocol=2):
    b = io.BytesIO()
    TorchPickler(b, protocol=protocol).dump(obj)
    return b.getvalue()


# ---- a zip writer (stored entries), with the options torch and zip64 use ----

def make_zip(entries, zip64=False, align=0, method=0, comment=b""):
    """entries: [(name, bytes)]. align: pad each local header's extra field so
    the data starts at a multiple of it (torch aligns to 64)."""
    body, central = bytearray(), bytearray()
    for name, data in entries:
        nb = name.encode()
        off = len(body)
        extra = b""
        if align:
            pad = (-(off + 30 + len(nb) + 4)) % align
            extra = struct.pack("<HH", 0x4246, pad) + b"Z" * pad   # torch's "FB" padding record
        size32 = 0xFFFFFFFF if zip64 else len(data)
        lextra = extra + (struct.pack("<HHQQ", 1, 16, len(data), len(data)) if zip64 else b"")
        body += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45 if zip64 else 20, 0, method, 0, 0x21, 0,
                            size32, size32, len(nb), len(lextra)) + nb + lextra + data
        cextra = struct.pack("<HHQQQ", 1, 24, len(data), len(data), off) if zip64 else b""
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45 if zip64 else 20, 45 if zip64 else 20, 0,
                               method, 0, 0x21, 0, size32, size32, len(nb), len(cextra), 0, 0, 0, 0,
                               0xFFFFFFFF if zip64 else off) + nb + cextra
    cd_off, n = len(body), len(entries)
    z = body + central
    if zip64:
        eocd64_off = len(z)
        z += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, n, n, len(central), cd_off)
        z += struct.pack("<IIQI", 0x07064B50, 0, eocd64_off, 1)
        z += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, len(comment))
    else:
        z += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, len(central), cd_off, len(comment))
    return bytes(z + comment)


def pattern(n, seed=1):
    return bytes((i * 31 + seed * 7 + (i >> 5)) & 0xFF for i in range(n))


def floats(vals):
    return struct.pack("<%df" % len(vals), *vals)


def pth_archive(sd, storages, prefix="archive", **kw):
    """sd: the object to pickle; storages: {key: bytes}."""
    e = [(prefix + "/data.pkl", torch_pickle(sd))]
    e += [(prefix + "/data/" + k, v) for k, v in storages.items()]
    e += [(prefix + "/version", b"3\n"), (prefix + "/byteorder", b"little")]
    return make_zip(e, **kw)


def od(*items):
    return collections.OrderedDict(items)


# ---- corpus_pth and corpus_pickle -----------------------------------------

def gen_pth():
    s0 = Storage("FloatStorage", "0", 24)
    plain = od(("conv.weight", Tensor(s0, 0, [2, 3, 2, 2])), )
    out("pth", "plain_f32.pth", pth_archive(plain, {"0": floats([i * 0.5 for i in range(24)])}))

    # several tensors sharing one storage with offsets, a transposed view, a scalar, an empty tensor
    sh = Storage("FloatStorage", "0", 40)
    shared = od(("a.weight", Tensor(sh, 0, [4, 5])),
                ("a.bias", Tensor(sh, 20, [5])),
                ("a.t", Tensor(sh, 0, [5, 4], [1, 5])),
                ("a.scalar", Tensor(sh, 39, [])),
                ("a.empty", Tensor(sh, 40, [0, 3])),
                ("a.bcast", Tensor(sh, 25, [3, 4], [0, 1])))
    out("pth", "shared_views.pth", pth_archive(shared, {"0": floats([float(i) for i in range(40)])}))

    # every storage type
    sd, st = collections.OrderedDict(), {}
    for i, (name, es) in enumerate(ELEM.items()):
        s = Storage(name, str(i), 6)
        sd["t.%s" % name] = Tensor(s, 0, [2, 3])
        st[str(i)] = pattern(6 * es, i)
    out("pth", "all_dtypes.pth", pth_archive(sd, st))

    # parameters, the state_dict wrapper, another folder name, aligned like torch
    p = Storage("HalfStorage", "7", 8)
    wrapped = {"epoch": 3, "state_dict": od(("w", Tensor(p, 0, [2, 4], param=True)), ("b", Tensor(p, 4, [4])))}
    out("pth", "state_dict_param.pth", pth_archive(wrapped, {"7": pattern(16)}, prefix="denoising_unet", align=64))

    # whisper_tiny.pt: {'dims': {...}, 'model_state_dict': {...}}
    ws = Storage("HalfStorage", "0", 12)
    whisper = {"dims": {"n_mels": 80, "n_vocab": 51865, "n_audio_ctx": 1500, "n_audio_state": 384,
                        "n_audio_head": 6, "n_audio_layer": 4, "n_text_ctx": 448, "n_text_state": 384,
                        "n_text_head": 6, "n_text_layer": 4},
               "model_state_dict": od(("encoder.ln_post.weight", Tensor(ws, 0, [6])),
                                      ("encoder.ln_post.bias", Tensor(ws, 6, [6])))}
    out("pth", "whisper_dims.pth", pth_archive(whisper, {"0": pattern(24)}, prefix="whisper_tiny"))

    # zip64 records (torch writes them for big files)
    out("pth", "zip64.pth", pth_archive(plain, {"0": floats([1.0] * 24)}, zip64=True))
    # a zip comment after the end record
    out("pth", "comment.pth", pth_archive(plain, {"0": floats([2.0] * 24)}, comment=b"saved by test"))

    good = pth_archive(plain, {"0": floats([i * 0.5 for i in range(24)])})
    # malformed: truncated, view past its storage, missing storage, compressed entry,
    # two pickles, big-endian byteorder, not a dict, a forbidden global
    out("pth", "bad_truncated.pth", good[: len(good) - 30])
    s_small = Storage("FloatStorage", "0", 24)
    out("pth", "bad_view_past_storage.pth",
        pth_archive(od(("x", Tensor(s_small, 20, [2, 4]))), {"0": floats([0.0] * 24)}))
    out("pth", "bad_storage_too_short.pth", pth_archive(plain, {"0": floats([0.0] * 10)}))
    out("pth", "bad_missing_storage.pth", pth_archive(plain, {}))
    out("pth", "bad_deflate.pth", make_zip([("archive/data.pkl", torch_pickle(plain)),
                                            ("archive/data/0", floats([0.0] * 24))], method=8))
    out("pth", "bad_two_pickles.pth", make_zip([("a/data.pkl", torch_pickle(plain)),
                                                ("b/data.pkl", torch_pickle(plain))]))
    out("pth", "bad_big_endian.pth", make_zip([("archive/data.pkl", torch_pickle(plain)),
                                               ("archive/data/0", floats([0.0] * 24)),
                                               ("archive/byteorder", b"big")]))
    out("pth", "bad_list_root.pth", pth_archive([1, 2, 3], {}))
    evil = b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03."
    out("pth", "bad_global.pth", make_zip([("archive/data.pkl", evil)]))
    out("pth", "bad_stride_overflow.pth",
        pth_archive(od(("x", Tensor(s0, 0, [2, 2], [1 << 62, 1 << 62]))), {"0": floats([0.0] * 24)}))

    # ---- pickles for fuzz_pickle.c (storages '0' 131072 B, '1'..'4' 16/64/1024/4096 B)
    s1 = Storage("FloatStorage", "1", 4)
    s3 = Storage("FloatStorage", "3", 256)
    s4h = Storage("HalfStorage", "4", 2048)
    out("pickle", "plain.pkl", torch_pickle(od(("w", Tensor(s1, 0, [2, 2])))))
    out("pickle", "views_proto4.pkl", torch_pickle(od(("a", Tensor(s3, 0, [16, 16])), ("b", Tensor(s3, 16, [15])),
                                                      ("c", Tensor(s3, 0, [16, 16], [1, 16])),
                                                      ("d", Tensor(s3, 255, [])),
                                                      ("e", Tensor(s4h, 100, [3, 0, 2])),
                                                      ("f", Tensor(s4h, 0, [4, 4], param=True))), protocol=4))
    out("pickle", "wrapped.pkl", torch_pickle({"state_dict": od(("x", Tensor(s1, 1, [3]))), "step": 10,
                                               "meta": [1.5, None, True, b"raw", "text", (1, 2)]}))
    out("pickle", "whisper_dims.pkl", torch_pickle({"dims": {"n_mels": 80, "n_audio_ctx": 1500, "n_audio_state": 384,
                                                             "n_audio_head": 6, "n_audio_layer": 4},
                                                    "model_state_dict": od(("encoder.x", Tensor(s1, 0, [4])))}))
    sd, i = collections.OrderedDict(), 0
    for name in ELEM:
        sd["t%d" % i] = Tensor(Storage(name, "2", 64 // ELEM[name]), 0, [64 // ELEM[name]])
        i += 1
    out("pickle", "all_dtypes.pkl", torch_pickle(sd))
    # a list appended to itself (memo cycle) and long ints, in a non-tensor value: refused, but parsed first
    cyc = []
    cyc.append(cyc)
    out("pickle", "cycle.pkl", pickle.dumps({"x": cyc, "big": 1 << 70, "neg": -5, "f": 2.5}, protocol=2))
    out("pickle", "os_system.pkl", b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.")
    out("pickle", "unknown_opcode.pkl", b"\x80\x02}q\x00(X\x01\x00\x00\x00ai\x00\x00u.")
    out("pickle", "truncated.pkl", torch_pickle(od(("w", Tensor(s1, 0, [2, 2]))))[:-7])
    out("pickle", "deep_marks.pkl", b"\x80\x02" + b"(" * 5000 + b"t" * 5000 + b".")
    out("pickle", "deep_lists.pkl", b"\x80\x02" + b"]" * 3000 + b"a" * 2999 + b".")
    # the pose guider fixture's data.pkl, written by torch itself (one shared storage '0' of 18516 floats)
    z = zipfile.ZipFile(os.path.join(FIX, "moore-tiny-pth", "pose_guider.pth"))
    out("pickle", "torch_pose_guider.pkl", z.read("pose_guider/data.pkl"))


# ---- corpus_image ----------------------------------------------------------

def png_chunk(t, data):
    return struct.pack(">I", len(data)) + t + data + struct.pack(">I", zlib.crc32(t + data) & 0xFFFFFFFF)


def png_rows(w, h, ctype, depth, seed):
    ch = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
    bits = w * ch * depth
    rowbytes = (bits + 7) // 8
    return [bytes(((x * 29 + y * 53 + seed * 11) ^ (x * y)) & 0xFF for x in range(rowbytes)) for y in range(h)]


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def make_png(w, h, ctype, depth, seed=0, interlace=False, plte=None, trns=None, filt=0, extra=b""):
    ihdr = struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 1 if interlace else 0)
    raw = bytearray()
    if not interlace:
        for r in png_rows(w, h, ctype, depth, seed):
            raw += bytes([filt]) + r
    else:
        # byte-oriented depths only here (8/16): each pass is a sub-picture
        ch = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
        bpp = ch * depth // 8
        full = png_rows(w, h, ctype, depth, seed)
        for x0, y0, dx, dy in ADAM7:
            xs = list(range(x0, w, dx))
            if not xs:
                continue
            for y in range(y0, h, dy):
                raw += b"\x00" + b"".join(full[y][x * bpp:(x + 1) * bpp] for x in xs)
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + extra
    if plte is not None:
        data += png_chunk(b"PLTE", plte)
    if trns is not None:
        data += png_chunk(b"tRNS", trns)
    data += png_chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + png_chunk(b"IEND", b"")
    return data


def gen_image():
    for fn in sorted(os.listdir(os.path.join(FIX, "images"))):
        if fn.endswith((".jpg", ".webp", ".png")):
            out("image", fn, fixture("images", fn))
    out("image", "pose_000.png", fixture("moore-tiny", "inputs", "pose_000.png"))
    out("image", "face_mask.png", fixture("echomimic-tiny", "inputs", "face_mask.png"))
    out("image", "face_mask_before_crop.png", fixture("echomimic-tiny", "inputs", "face_mask_before_crop.png"))
    out("image", "pose_004_render.png", fixture("pose-render", "pose_004.png"))
    for depth in (1, 2, 4, 8, 16):
        out("image", "grey%d.png" % depth, make_png(9, 5, 0, depth, depth))
    out("image", "rgb8.png", make_png(7, 5, 2, 8, 1))
    out("image", "rgb16.png", make_png(7, 5, 2, 16, 2))
    out("image", "grey_alpha8.png", make_png(6, 4, 4, 8, 3))
    out("image", "grey_alpha16.png", make_png(6, 4, 4, 16, 4))
    out("image", "rgba8.png", make_png(6, 4, 6, 8, 5))
    out("image", "rgba16.png", make_png(5, 3, 6, 16, 6))
    out("image", "palette4.png", make_png(8, 4, 3, 4, 7, plte=bytes(range(48))))
    out("image", "palette8.png", make_png(8, 4, 3, 8, 7, plte=bytes((i * 5) & 0xFF for i in range(768))))
    out("image", "palette_trns.png", make_png(8, 4, 3, 8, 8, plte=bytes((i * 7) & 0xFF for i in range(768)),
                                              trns=bytes(range(0, 256, 8))))
    out("image", "grey_trns.png", make_png(5, 5, 0, 8, 9, trns=b"\x00\x10"))
    out("image", "rgb8_interlaced.png", make_png(11, 9, 2, 8, 10, interlace=True))
    out("image", "grey16_interlaced.png", make_png(10, 7, 0, 16, 11, interlace=True))
    out("image", "rgb8_paeth.png", make_png(7, 5, 2, 8, 12, filt=4))
    out("image", "with_text.png", make_png(4, 4, 2, 8, 13, extra=png_chunk(b"tEXt", b"Comment\x00hello") +
                                           png_chunk(b"gAMA", struct.pack(">I", 45455))))
    good = make_png(7, 5, 2, 8, 1)
    bad = bytearray(good)
    bad[29] ^= 0xFF   # IHDR CRC
    out("image", "bad_crc.png", bytes(bad))
    out("image", "bad_truncated_idat.png", good[: len(good) - 20])
    out("image", "bad_too_wide.png", b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 16385, 1, 8, 2, 0, 0, 0)) +
        png_chunk(b"IDAT", zlib.compress(b"\x00" * (16385 * 3 + 1))) + png_chunk(b"IEND", b""))
    out("image", "bad_zero_width.png", b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 0, 4, 8, 2, 0, 0, 0)))
    out("image", "bad_riff_only.webp", b"RIFF\x04\x00\x00\x00WEBP")
    out("image", "bad_jpeg_soi_only.jpg", b"\xff\xd8\xff\xd9")


# ---- corpus_wav ------------------------------------------------------------

def riff(chunks, form=b"WAVE", magic=b"RIFF", size=None):
    body = form + b"".join(chunks)
    return magic + struct.pack("<I", len(body) if size is None else size) + body


def chunk(cid, data, size=None):
    c = cid + struct.pack("<I", len(data) if size is None else size) + data
    return c + (b"\x00" if len(data) % 2 else b"")


def fmt(tag, ch, rate, bits, ext_mask=None, ext_sub=None, block=None):
    ba = block if block is not None else ch * ((bits + 7) // 8)
    f = struct.pack("<HHIIHH", 0xFFFE if ext_mask is not None else tag, ch, rate, rate * ba, ba, bits)
    if ext_mask is not None:
        guid = struct.pack("<H", ext_sub if ext_sub is not None else tag) + \
            b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
        f += struct.pack("<HHI", 22, bits, ext_mask) + guid
    return chunk(b"fmt ", f)


def samples(n, ch, kind, seed=1):
    """interleaved sample bytes of a smooth-ish signal with some noise"""
    out_b = bytearray()
    for i in range(n):
        for c in range(ch):
            v = 0.6 * math.sin(2 * math.pi * (i * (c + 1) * 0.013 + seed * 0.1)) + \
                0.3 * (((i * 7919 + c * 104729 + seed) % 1000) / 1000.0 - 0.5)
            if kind == "u8":
                out_b += struct.pack("<B", max(0, min(255, int(round(v * 127 + 128)))))
            elif kind == "s16":
                out_b += struct.pack("<h", int(round(v * 32767)))
            elif kind == "s24":
                out_b += struct.pack("<i", int(round(v * 8388607)))[:3]
            elif kind == "s32":
                out_b += struct.pack("<i", int(round(v * 2147483647)))
            elif kind == "f32":
                out_b += struct.pack("<f", v)
            elif kind == "f64":
                out_b += struct.pack("<d", v)
    return bytes(out_b)


def gen_wav():
    out("wav", "u8_mono_8000.wav", riff([fmt(1, 1, 8000, 8), chunk(b"data", samples(400, 1, "u8"))]))
    out("wav", "s16_mono_16000.wav", riff([fmt(1, 1, 16000, 16), chunk(b"data", samples(500, 1, "s16"))]))
    out("wav", "s16_stereo_44100.wav", riff([fmt(1, 2, 44100, 16), chunk(b"data", samples(400, 2, "s16"))]))
    out("wav", "s16_mono_44056.wav", riff([fmt(1, 1, 44056, 16), chunk(b"data", samples(600, 1, "s16"))]))
    out("wav", "s16_mono_short40.wav", riff([fmt(1, 1, 22050, 16), chunk(b"data", samples(40, 1, "s16"))]))
    out("wav", "s24_stereo_22050.wav", riff([fmt(1, 2, 22050, 24), chunk(b"data", samples(300, 2, "s24"))]))
    out("wav", "s32_mono_48000.wav", riff([fmt(1, 1, 48000, 32), chunk(b"data", samples(500, 1, "s32"))]))
    out("wav", "f32_mono_11025.wav", riff([fmt(3, 1, 11025, 32), chunk(b"data", samples(400, 1, "f32"))]))
    out("wav", "f64_stereo_48000.wav", riff([fmt(3, 2, 48000, 64), chunk(b"data", samples(300, 2, "f64"))]))
    special = struct.pack("<8f", 0.0, 1.0, -1.0, 3.5, -7.25, float("inf"), float("-inf"), float("nan")) * 40
    out("wav", "f32_out_of_range.wav", riff([fmt(3, 1, 16000, 32), chunk(b"data", special)]))
    out("wav", "ext_6ch_60f.wav", riff([fmt(1, 6, 22050, 16, ext_mask=0x60F), chunk(b"data", samples(150, 6, "s16"))]))
    out("wav", "ext_3ch_f32.wav", riff([fmt(3, 3, 32000, 32, ext_mask=0x7, ext_sub=3),
                                        chunk(b"data", samples(150, 3, "f32"))]))
    out("wav", "ext_mask_mismatch.wav", riff([fmt(1, 2, 16000, 16, ext_mask=0x3F),
                                              chunk(b"data", samples(200, 2, "s16"))]))
    out("wav", "plain_9ch.wav", riff([fmt(1, 9, 8000, 16), chunk(b"data", samples(60, 9, "s16"))]))
    out("wav", "pcm12_in_16.wav", riff([fmt(1, 1, 16000, 12, block=2), chunk(b"data", samples(300, 1, "s16"))]))
    data = samples(300, 1, "s16")
    ds64 = chunk(b"ds64", struct.pack("<QQQI", 0, len(data), 300, 0))
    out("wav", "rf64.wav", riff([ds64, fmt(1, 1, 24000, 16), chunk(b"data", data, size=0xFFFFFFFF)],
                                magic=b"RF64", size=0xFFFFFFFF))
    out("wav", "fmt_after_data.wav", riff([chunk(b"data", samples(300, 1, "s16")), fmt(1, 1, 16000, 16)]))
    out("wav", "odd_list_chunk.wav", riff([chunk(b"LIST", b"INFOISFT\x05\x00\x00\x00abcd\x00"),
                                           fmt(1, 1, 16000, 16), chunk(b"fact", b"\x2c\x01\x00\x00"),
                                           chunk(b"data", samples(300, 1, "s16"))]))
    out("wav", "data_size_zero.wav", riff([fmt(1, 2, 32000, 16), chunk(b"data", samples(200, 2, "s16"), size=0)]))
    out("wav", "data_size_ffff.wav", riff([fmt(1, 1, 8000, 8), chunk(b"data", samples(300, 1, "u8"), size=0xFFFFFFFF)]))
    out("wav", "data_size_too_big.wav", riff([fmt(1, 1, 16000, 16), chunk(b"data", samples(100, 1, "s16"), size=100000)]))
    out("wav", "partial_frame.wav", riff([fmt(1, 2, 16000, 16), chunk(b"data", samples(100, 2, "s16") + b"\x01\x02\x03")]))
    out("wav", "rate_1000.wav", riff([fmt(1, 1, 1000, 16), chunk(b"data", samples(300, 1, "s16"))]))
    out("wav", "rate_768000.wav", riff([fmt(1, 1, 768000, 16), chunk(b"data", samples(800, 1, "s16"))]))
    out("wav", "bad_header_only.wav", b"RIFF\x24\x00\x00\x00WAVE")
    out("wav", "bad_short_fmt.wav", riff([chunk(b"fmt ", b"\x01\x00\x01\x00"), chunk(b"data", b"\x00" * 8)]))
    out("wav", "bad_no_data.wav", riff([fmt(1, 1, 16000, 16)]))
    out("wav", "bad_alaw.wav", riff([fmt(6, 1, 8000, 8), chunk(b"data", b"\x55" * 100)]))
    out("wav", "bad_rifx.wav", b"RIFX" + riff([fmt(1, 1, 16000, 16)])[4:])
    out("wav", "ext_mp3_subformat.wav", riff([fmt(1, 1, 16000, 16, ext_mask=0x4, ext_sub=0x55), chunk(b"data", b"\x00" * 16)]))
    ext = bytearray(fmt(1, 1, 16000, 16, ext_mask=0x4))
    ext[8 + 24 + 4] ^= 0x5A   # a byte of the GUID tail: not a KSDATAFORMAT SubFormat
    out("wav", "bad_guid_tail.wav", riff([bytes(ext), chunk(b"data", b"\x00" * 16)]))
    out("wav", "bad_no_frame.wav", riff([fmt(1, 2, 16000, 24), chunk(b"data", b"\x00" * 5)]))
    out("wav", "bad_rf64_no_ds64.wav", riff([fmt(1, 1, 16000, 16), chunk(b"data", b"\x00" * 8, size=0xFFFFFFFF)],
                                            magic=b"RF64"))


# ---- corpus_pose_json ------------------------------------------------------

def pose_person(n_body=18, hands=True, face=68, seed=0, conf=0.9):
    def pts(n, w, h, c):
        v = []
        for i in range(n):
            v += [round((i * 37 + seed * 13) % w + 0.25, 3), round((i * 53 + seed * 7) % h + 0.5, 3),
                  c if i % 5 else 0.3]
        return v
    p = {"pose_keypoints_2d": pts(n_body, 320, 480, conf)}
    if hands:
        p["hand_left_keypoints_2d"] = pts(21, 320, 480, 0.8)
        p["hand_right_keypoints_2d"] = pts(21, 320, 480, 0.31)
    if face:
        p["face_keypoints_2d"] = pts(face, 320, 480, 0.95)
    return p


def gen_pose():
    d = os.path.join(FIX, "pose-render")
    for fn in sorted(os.listdir(d)):
        if fn.endswith(".json") and fn.startswith("pose_") and "." not in fn[:-5]:
            out("pose_json", fn, fixture("pose-render", fn))
    for fn in ("pose_000.json", "pose_001.json"):
        out("pose_json", "quirk720_" + fn, fixture("pose-render", "quirk-720x1080", fn))

    def dump(name, obj):
        out("pose_json", name, json.dumps(obj, separators=(",", ":")))
    dump("body25_face70.json", {"canvas_width": 320, "canvas_height": 480,
                                "people": [pose_person(25, True, 70, 1)]})
    dump("nulls_and_empty.json", {"canvas_width": 64, "canvas_height": 64, "version": 1.3,
                                  "people": [{"pose_keypoints_2d": [], "hand_left_keypoints_2d": None,
                                              "face_keypoints_2d": [], "person_id": [-1]}]})
    dump("three_people.json", {"canvas_width": 320, "canvas_height": 480,
                               "people": [pose_person(18, False, 0, 2, 0.5), pose_person(18, True, 68, 3, 0.9),
                                          pose_person(18, True, 0, 4, 0.9)]})
    far = pose_person(18, True, 68, 5)
    far["pose_keypoints_2d"][0:6] = [-1e6, 1e6, 1.0, 999999.5, -999999.5, 1.0]
    far["hand_left_keypoints_2d"][0:3] = [-0.0, 1e-300, 0.3]
    dump("far_coords.json", {"canvas_width": 16384, "canvas_height": 256, "people": [far]})
    dump("tiny_canvas.json", {"canvas_width": 1, "canvas_height": 1, "people": [pose_person(18, True, 68, 6)]})
    dump("no_people.json", {"canvas_width": 100, "canvas_height": 50, "people": []})
    dump("bad_no_canvas.json", {"people": []})
    dump("bad_canvas_zero.json", {"canvas_width": 0, "canvas_height": 10, "people": []})
    dump("bad_canvas_big.json", {"canvas_width": 16385, "canvas_height": 10, "people": []})
    dump("bad_canvas_frac.json", {"canvas_width": 10.5, "canvas_height": 10, "people": []})
    dump("bad_people_object.json", {"canvas_width": 10, "canvas_height": 10, "people": {}})
    dump("bad_53_values.json", {"canvas_width": 10, "canvas_height": 10,
                                "people": [{"pose_keypoints_2d": [1.0] * 53}]})
    dump("bad_string_value.json", {"canvas_width": 10, "canvas_height": 10,
                                   "people": [{"hand_right_keypoints_2d": ["x"] * 63}]})
    dump("bad_out_of_range.json", {"canvas_width": 10, "canvas_height": 10,
                                   "people": [{"pose_keypoints_2d": [2e6] * 54}]})
    out("pose_json", "bad_truncated.json", fixture("pose-render", "pose_005.json")[:300])


# ---- corpus_config ---------------------------------------------------------

def compact(raw):
    return json.dumps(json.loads(raw), separators=(",", ":"))


def gen_config():
    for sub in ("moore-tiny", "moore-tiny-pth", "echomimic-tiny"):
        for rel in ("model_config.json", "unet/config.json", "vae/config.json", "image_encoder/config.json",
                    "audio_processor/whisper_tiny.dims.json"):
            p = os.path.join(FIX, sub, rel)
            if os.path.exists(p):
                out("config", sub + "." + rel.replace("/", "."), fixture(sub, rel))
    for fn in ("sd15_unet_config.json", "inference_v2.json", "echomimic.inference_v2.json",
               "pose_guider.pth.json", "echomimic.face_locator.json", "echomimic.whisper_tiny_encoder.json"):
        out("config", "real." + fn, compact(fixture("real-manifests", fn)))

    def dump(name, obj):
        out("config", name, json.dumps(obj, separators=(",", ":")))
    dump("clip_full_model.json", {"projection_dim": 512, "text_config": {"hidden_size": 512},
                                  "vision_config": {"hidden_size": 768, "intermediate_size": 3072,
                                                    "num_hidden_layers": 12, "num_attention_heads": 12,
                                                    "patch_size": 32, "image_size": 224, "hidden_act": "gelu",
                                                    "layer_norm_eps": 1e-5}})
    dump("unet_head_list.json", {"block_out_channels": [32, 64, 64, 128], "attention_head_dim": [1, 2, 2, 4],
                                 "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                                                      "CrossAttnDownBlock2D", "DownBlock2D"],
                                 "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D",
                                                    "CrossAttnUpBlock2D"],
                                 "norm_num_groups": 32, "cross_attention_dim": 64, "layers_per_block": 1})
    dump("kwargs_echomimic.json", {"unet_additional_kwargs": {"cross_attention_dim": 384, "use_motion_module": True,
                                                              "motion_module_resolutions": [1, 2, 4, 8],
                                                              "motion_module_type": "Vanilla",
                                                              "motion_module_kwargs": {"num_attention_heads": 8,
                                                                                       "attention_block_types":
                                                                                           ["Temporal_Self"]}},
                                   "face_locator": {"conditioning_channels": 1,
                                                    "block_out_channels": [16, 32, 96, 256]},
                                   "vae_latent_scaling": 0.18215, "clip_image_size": 224, "sampler": "DDIM"})
    dump("whisper_dims_big.json", {"n_mels": 128, "n_audio_ctx": 65536, "n_audio_state": 16384,
                                   "n_audio_head": 1024, "n_audio_layer": 1024})
    dump("bad_types.json", {"block_out_channels": "wide", "in_channels": -4, "sampler": "Euler",
                            "noise_scheduler_kwargs": [], "hidden_act": "relu", "n_mels": 0})
    dump("bad_ranges.json", {"block_out_channels": [0, 1e9], "norm_num_groups": 3, "layers_per_block": 65,
                             "scaling_factor": -1, "beta_start": 0.5, "beta_end": 0.1,
                             "num_attention_heads": 7, "hidden_size": 10})
    dump("manifest_odd.json", {"keys": [{"name": "a", "shape": [], "dtype": "torch.bool"},
                                        {"name": "b", "shape": [0, 1099511627776], "dtype": "float16"},
                                        {"name": "c", "shape": [2, 3, 4, 5, 6, 7, 8, 9], "dtype": "bfloat16"}]})
    dump("manifest_bad.json", {"keys": [{"name": "a", "shape": [1], "dtype": "complex64"},
                                        {"name": "a", "shape": [1], "dtype": "float32"}]})


# ---- corpus_json (extra seeds next to the hand-written originals) -----------

def gen_json():
    out("json", "unicode.json", '{"s":"\\u00e9\\ud83d\\ude00 \u00fc\\n","k\\u0000":1,"n":[0,-0.0,1e308,-1E-308,'
                                '18446744073709551615,18446744073709551616,3.14159]}')
    out("json", "pose_small.json", fixture("pose-render", "pose_004.json"))
    out("json", "dims.json", fixture("echomimic-tiny", "audio_processor", "whisper_tiny.dims.json"))


def main():
    gen_pth()
    gen_image()
    gen_wav()
    gen_pose()
    gen_config()
    gen_json()
    total = 0
    for d in sorted(os.listdir(FUZZ)):
        if d.startswith("corpus_"):
            files = os.listdir(os.path.join(FUZZ, d))
            size = sum(os.path.getsize(os.path.join(FUZZ, d, f)) for f in files)
            total += size
            print("%-22s %4d files %8d bytes" % (d, len(files), size))
    print("total %d bytes" % total)


if __name__ == "__main__":
    main()
