#!/usr/bin/env python3
"""Write the JPEG / WebP test inputs of tests/fixtures/images/ and the pixels
Pillow decodes for each: what upstream gets from `Image.open(p).convert("RGB")`.

Not a build or CI dependency: the outputs are committed. To regenerate:

    python3 -m venv /tmp/imgref-venv
    /tmp/imgref-venv/bin/pip install "pillow==9.5.0" numpy
    /tmp/imgref-venv/bin/python tools/make_image_refs.py            # from the repository root
    /tmp/imgref-venv/bin/python tools/make_image_refs.py --check    # compare another Pillow's decode

Pillow 9.5.0 (the 9.x line upstream Moore-AnimateAnyone runs with) bundles
libjpeg-turbo 2.1.5.1 and libwebp 1.3.0 in its wheels. The inputs are made with
fixed seeds, so a rerun with the same Pillow gives the same bytes.

For every input <name> the script writes <name>.pil.ppm: a binary PPM (P6,
maxval 255) holding exactly Image.open(<name>).convert("RGB"), or, for a
damaged input Pillow refuses, a line in refused.txt. It also tries
every truncation of every input (the first k bytes, k < size) and records in
truncation.txt the lengths at which Pillow still opens and converts the file
(Pillow raises "image file is truncated" / "could not create decoder object"
at every cut, except inside a segment that follows the last scan of a JPEG:
jtail.jpg), so that the C test can check the same rule.
FIXTURE.md records the versions and the list of files.
"""
import io
import os
import sys

import numpy as np
import PIL
from PIL import Image, features

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "images")
W, H = 37, 23   # odd sizes: partial MCUs (4:2:0 MCUs are 16x16), odd chroma widths


def texture(seed, w=W, h=H):
    """Smooth gradients + noise + hard edges + saturated patches: enough
    high-frequency chroma that subsampling, upsampling and the IDCT all matter."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    a = np.stack([x * 7, y * 11, (x + y) * 5 + 40], -1).astype(np.int32)
    a += rng.integers(-40, 41, (h, w, 3))
    a[(x // 5 + y // 4) % 2 == 0] //= 2                        # checkerboard of 5x4 cells
    a[h // 3:h // 3 + 3, :] = [250, 20, 20]                    # a red band
    a[:, w // 2:w // 2 + 2] = [10, 240, 30]                    # a green bar
    a[rng.random((h, w)) < 0.03] = [255, 255, 255]             # isolated white dots
    return np.clip(a, 0, 255).astype(np.uint8)


def alpha(seed, w=W, h=H):
    """0 on the left, 255 on the right, partial values and noise between."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    a = (x - 8) * 12 + rng.integers(-20, 21, (h, w))
    a[:, :6] = 0
    a[:, -6:] = 255
    return np.clip(a, 0, 255).astype(np.uint8)


def jpeg(im, **kw):
    b = io.BytesIO()
    im.save(b, "JPEG", **kw)
    return b.getvalue()


def webp(im, **kw):
    b = io.BytesIO()
    im.save(b, "WEBP", **kw)
    return b.getvalue()


def exif_orientation(value):
    ex = Image.Exif()
    ex[0x0112] = value
    return ex.tobytes()


def make_inputs():
    rgb = Image.fromarray(texture(1))
    rgba = Image.fromarray(np.dstack([texture(2), alpha(3)]), "RGBA")
    grey = Image.fromarray(texture(4)[:, :, 1])
    t5 = texture(5)
    # CMYK: K from the darkness, C/M/Y from the colour; Pillow writes it with an
    # Adobe APP14 marker (libjpeg does for CMYK) and inverted samples ("CMYK;I")
    k = 255 - t5.max(axis=2)
    cmyk = Image.fromarray(np.dstack([255 - t5[:, :, 0], 255 - t5[:, :, 1], 255 - t5[:, :, 2], k // 2]).astype(np.uint8),
                           "CMYK")
    other = Image.fromarray(texture(6, 29, 31))
    f0 = Image.fromarray(np.dstack([texture(7), alpha(8)]), "RGBA")
    f1 = Image.fromarray(np.dstack([np.roll(texture(7), 5, axis=1), np.full((H, W), 255, np.uint8)]), "RGBA")
    anim = io.BytesIO()
    f0.save(anim, "WEBP", save_all=True, append_images=[f1], duration=[100, 150], loop=0, quality=80)
    # A COM segment between the last scan and EOI: cut inside it, every row is
    # already decoded and only jpeg_finish_decompress runs out of data, which
    # Pillow ignores (JpegDecode.c: "if (state->y < state->ysize) break;" only).
    j = jpeg(rgb, quality=90)
    assert j[-2:] == b"\xff\xd9"
    com = b"trailing comment after the last scan"
    jtail = j[:-2] + b"\xff\xfe" + (len(com) + 2).to_bytes(2, "big") + com + b"\xff\xd9"
    j420 = jpeg(rgb, quality=90)
    wlossy, wlossless = webp(rgb, quality=80), webp(rgb, lossless=True)
    return [
        # name, bytes, what
        ("j420.jpg", j420, "baseline JPEG, 4:2:0 (Pillow's default subsampling), quality 90"),
        ("j422.jpg", jpeg(rgb, quality=90, subsampling=1), "baseline JPEG, 4:2:2"),
        ("j444.jpg", jpeg(rgb, quality=95, subsampling=0), "baseline JPEG, 4:4:4"),
        ("jprog.jpg", jpeg(rgb, quality=85, progressive=True), "progressive JPEG, 4:2:0"),
        ("jopt.jpg", jpeg(rgb, quality=75, optimize=True), "baseline JPEG with optimised Huffman tables"),
        ("jgrey.jpg", jpeg(grey, quality=90), "greyscale (1-component) JPEG: mode L, R = G = B"),
        ("jcmyk.jpg", jpeg(cmyk, quality=90), "CMYK JPEG with an Adobe APP14 marker: mode CMYK, Pillow's "
         "'CMYK;I' inversion then cmyk2rgb"),
        ("jexif6.jpg", jpeg(rgb, quality=90, exif=exif_orientation(6)), "EXIF orientation 6 (rotate 90): "
         "Pillow's open/convert does NOT rotate, so the pixels are as stored (37x23)"),
        ("jtail.jpg", jtail, "j420.jpg with a COM segment after the last scan: Pillow accepts cuts inside it"),
        ("jpeg_named.png", jpeg(other, quality=80), "a 29x31 baseline JPEG named .png: found by content"),
        ("wlossy.webp", wlossy, "still lossy WebP (VP8), no alpha"),
        ("wlossless.webp", wlossless, "still lossless WebP (VP8L)"),
        ("walpha.webp", webp(rgba, quality=80), "still lossy WebP with alpha (VP8X + ALPH + VP8): alpha dropped "
         "without compositing"),
        ("walpha_lossless.webp", webp(rgba, lossless=True), "still lossless WebP with alpha"),
        ("wanim.webp", anim.getvalue(), "animated WebP, 2 frames (100 ms, 150 ms), frame 0 with alpha: "
         "Image.open gives frame 0"),
        # damaged files: what Pillow does with them is the reference too
        ("jcorrupt.jpg", corrupt(j420, j420.index(b"\xff\xda") + 300), "j420.jpg with 4 bytes of entropy data "
         "flipped: libjpeg only warns, Pillow silences warnings and decodes it"),
        ("wcorrupt.webp", corrupt(wlossy, 100), "wlossy.webp with 4 bytes of VP8 data flipped: decodes (to other "
         "pixels) in Pillow"),
        ("wbad.webp", corrupt(wlossless, 100), "wlossless.webp with 4 bytes of VP8L data flipped: Pillow refuses it"),
    ]


def corrupt(data, at):
    """XOR 4 bytes with 0x55 without creating or breaking a JPEG 0xFF byte."""
    b = bytearray(data)
    for p in range(at, at + 4):
        assert b[p] != 0xFF and b[p - 1] != 0xFF and b[p] ^ 0x55 != 0xFF
        b[p] ^= 0x55
    return bytes(b)


def pil_rgb(data):
    return Image.open(io.BytesIO(data)).convert("RGB")


def write_ppm(path, im):
    a = np.asarray(im, dtype=np.uint8)
    with open(path, "wb") as f:
        f.write(b"P6\n%d %d\n255\n" % (a.shape[1], a.shape[0]))
        f.write(a.tobytes())


def accepted_cuts(data):
    """The lengths k < len(data) at which Pillow still decodes data[:k]; the
    C test expects the full picture there, so check that Pillow gives it."""
    full = np.asarray(pil_rgb(data))
    ok = []
    for k in range(len(data)):
        try:
            im = pil_rgb(data[:k])
        except Exception:   # OSError "image file is truncated", UnidentifiedImageError, ...
            continue
        assert np.array_equal(np.asarray(im), full), "cut %d decodes to other pixels" % k
        ok.append(k)
    return ok


def main():
    os.makedirs(OUT, exist_ok=True)
    inputs = make_inputs()
    rows, trunc, refused = [], [], []
    for name, data, what in inputs:
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        src = Image.open(io.BytesIO(data))
        mode, frames = src.mode, getattr(src, "n_frames", 1)
        try:
            im = pil_rgb(data)
        except Exception as e:   # a damaged input Pillow refuses: the C decoder must refuse it too
            refused.append("%s %s" % (name, repr(e)))
            rows.append("| `%s` | %d | - | %s | %s; Pillow: `%r` |" % (name, len(data), mode, what, e))
            continue
        write_ppm(os.path.join(OUT, name + ".pil.ppm"), im)
        cuts = accepted_cuts(data)
        trunc.append("%s %d%s" % (name, len(data), "".join(" %d" % k for k in cuts)))
        rows.append("| `%s` | %d | %dx%d | %s%s | %s |" % (name, len(data), im.width, im.height, mode,
                                                        ", %d frames" % frames if frames > 1 else "", what))
    with open(os.path.join(OUT, "refused.txt"), "w") as f:
        f.write("# <file> <Pillow's exception>: inputs Image.open(p).convert(\"RGB\") refuses\n")
        f.write("\n".join(refused) + "\n")
    with open(os.path.join(OUT, "truncation.txt"), "w") as f:
        f.write("# <file> <full size> <cut lengths below the full size that Pillow still decodes>\n")
        f.write("\n".join(trunc) + "\n")
    versions = "Pillow %s (libjpeg-turbo %s, libwebp %s), numpy %s, Python %s" % (
        PIL.__version__, features.version_feature("libjpeg_turbo"), features.version("webp"), np.__version__,
        sys.version.split()[0])
    with open(os.path.join(OUT, "FIXTURE.md"), "w") as f:
        f.write(FIXTURE_MD.format(versions=versions, rows="\n".join(rows)))
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print("wrote %d inputs to %s (%d bytes in all) with %s" % (len(inputs), os.path.normpath(OUT), total, versions))


FIXTURE_MD = """# Picture decoding fixtures (JPEG, WebP)

Made by `tools/make_image_refs.py` with {versions}.
Each input `<name>` comes with `<name>.pil.ppm` (binary PPM, P6, maxval 255): the pixels of
`Image.open(<name>).convert("RGB")`, which is how upstream Moore-AnimateAnyone reads its reference picture.
`tests/test_image.c` decodes every input with lib/io/image.c and requires **0 differences** from these pixels.
`refused.txt` lists the (damaged) inputs Pillow refuses: no `.pil.ppm` for those; the C decoder must fail too.
`truncation.txt` lists, per input, the cut lengths that Pillow still decodes: none, except for `jtail.jpg` cut inside
the segment that follows its last scan (Pillow ignores a suspension in `jpeg_finish_decompress` once every row is read).

| file | bytes | size | PIL mode | what |
|---|---|---|---|---|
{rows}

`python3 tools/make_image_refs.py --check` decodes these inputs with the Pillow at hand and compares with the
`.pil.ppm` files: libjpeg-turbo's ISLOW IDCT, upsampling and colour conversion and libwebp's decoders are
bit-exact across versions and SIMD paths, so any Pillow should agree (Pillow 13.0.0 with libjpeg-turbo 3.2.0 and
libwebp 1.6.0 did, to the last bit, when these files were made).

The textures (seeded numpy noise, a checkerboard, a red band, a green bar, white dots) are there so that
chroma subsampling, fancy upsampling and the IDCT all show in the pixels. Inputs are 37x23 (29x31 for the
`.png` one): partial MCUs, odd chroma widths.
"""

def check():
    """--check: decode the committed inputs with the Pillow at hand and
    compare with the committed .pil.ppm files (other Pillow / libjpeg-turbo /
    libwebp versions should agree: their decoders are bit-exact by design)."""
    bad = 0
    for name in sorted(os.listdir(OUT)):
        ref = os.path.join(OUT, name + ".pil.ppm")
        if not os.path.exists(ref):
            continue
        got = np.asarray(Image.open(os.path.join(OUT, name)).convert("RGB"), dtype=np.int16)
        want = np.asarray(Image.open(ref), dtype=np.int16)
        diff = int(np.abs(got - want).max()) if got.shape == want.shape else 256
        bad += diff != 0
        print("%-24s max difference %d" % (name, diff))
    print("Pillow %s (libjpeg-turbo %s, libwebp %s): %s" % (
        PIL.__version__, features.version_feature("libjpeg_turbo"), features.version("webp"),
        "all inputs match" if not bad else "%d inputs differ" % bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(check() if sys.argv[1:] == ["--check"] else main())
