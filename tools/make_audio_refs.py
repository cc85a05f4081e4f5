#!/usr/bin/env python3
"""Make tests/fixtures/audio: what ffmpeg and whisper produce for the audio
front end (lib/audio), so that the C tests can check it without either.

Not a build or CI dependency. Needs: the ffmpeg CLI (the fixture was made
with Debian 12's ffmpeg 5.1, the version EchoMimic's reference run used),
numpy, and whisper's mel_filters.npz (from the openai-whisper package, e.g.
`pip download openai-whisper --no-deps` and unpack; only the npz is read):

    python3 tools/make_audio_refs.py --whisper-npz .../whisper/assets/mel_filters.npz

Writes
  mel_80x201.f32      whisper's mel_80 filterbank (= librosa.filters.mel(sr=16000,
                      n_fft=400, n_mels=80)), float32 little-endian, row-major
  ffmpeg_<case>.s16   `ffmpeg -nostdin -threads 0 -i <case>.wav -f s16le -ac 1
                      -acodec pcm_s16le -ar 16000 -` for each synthetic WAV below
                      (the command of whisper's load_audio), int16 little-endian
  FIXTURE.md          what is here and how it was made

The WAVs themselves are not stored: tests/test_audio.c regenerates the same
samples with the same integer generator (synth() below; keep both in step).
"""
import argparse
import hashlib
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np

# name, codec, rate, channels, channel mask (0: plain WAVE_FORMAT_PCM/IEEE), frames
CASES = [
    ("s16_stereo_44100", "s16", 44100, 2, 0, 3000),
    ("u8_mono_8000", "u8", 8000, 1, 0, 1200),
    ("s16_mono_48000", "s16", 48000, 1, 0, 2400),
    ("s16_mono_44056", "s16", 44056, 1, 0, 2000),
    ("s16_6ch_22050", "s16", 22050, 6, 0, 1000),
    ("s16_ext60f_22050", "s16", 22050, 6, 0x60F, 1000),
    ("s16_ext7_32000", "s16", 32000, 3, 0x7, 1000),
    ("s16_stereo_16000", "s16", 16000, 2, 0, 1000),
    ("s16_mono_22050_short40", "s16", 22050, 1, 0, 40),
    ("s24_stereo_44100", "s24", 44100, 2, 0, 1500),
    ("s32_mono_22050", "s32", 22050, 1, 0, 1500),
    ("s32_mono_16000", "s32", 16000, 1, 0, 1000),
    ("f32_mono_11025", "f32", 11025, 1, 0, 1500),
    ("f64_stereo_48000", "f64", 48000, 2, 0, 2400),
]

M32 = 0xFFFFFFFF


def lcg(s):
    return (s * 1664525 + 1013904223) & M32


def synth(codec, channels, frames, seed):
    """Samples [frames][channels] as Python ints/floats; mirrors test_audio.c."""
    out = [[0] * channels for _ in range(frames)]
    for c in range(channels):
        s = (seed * 1000003 + c * 7919 + 1) & M32
        for i in range(frames):
            s = lcg(s)
            v = (s >> 18) - 8192 + ((i * (c + 3) * 37) % 4000) * 10 - 20000
            if i % 211 == 5:
                v = 32767
            if i % 307 == 11:
                v = -32768
            if codec == "u8":
                x = (v + 32768) >> 8
            elif codec == "s16":
                x = v
            elif codec == "s24":
                s = lcg(s)
                x = v * 256 + (s >> 24)
            elif codec == "s32":
                s = lcg(s)
                x = v * 65536 + (s >> 16)
            elif codec == "f32":
                x = float(v * 5) / 131072.0
            else:
                s = lcg(s)
                x = v / 32768.0 + (s >> 8) / 1099511627776.0
            out[i][c] = x
    return out


def wav_bytes(codec, rate, channels, mask, data):
    fmtcode = {"u8": "B", "s16": "h", "s32": "i", "f32": "f", "f64": "d"}
    bits = {"u8": 8, "s16": 16, "s24": 24, "s32": 32, "f32": 32, "f64": 64}[codec]
    tag = 3 if codec in ("f32", "f64") else 1
    raw = bytearray()
    for row in data:
        for x in row:
            if codec == "s24":
                raw += struct.pack("<i", x)[:3]
            else:
                raw += struct.pack("<" + fmtcode[codec], x)
    ba = channels * bits // 8
    if mask:
        fmt = struct.pack("<HHIIHHHHI", 0xFFFE, channels, rate, rate * ba, ba, bits, 22, bits, mask)
        fmt += struct.pack("<H", tag) + bytes([0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71])
    else:
        fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * ba, ba, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(raw)) + raw
    if len(raw) & 1:
        body += b"\0"
    return b"RIFF" + struct.pack("<I", len(body)) + body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--whisper-npz", required=True)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "audio"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    ver = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True, check=True).stdout.splitlines()[0]

    mel = np.load(args.whisper_npz)["mel_80"]
    assert mel.shape == (80, 201) and mel.dtype == np.float32
    mel.astype("<f4").tofile(os.path.join(args.out, "mel_80x201.f32"))

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, (name, codec, rate, ch, mask, frames) in enumerate(CASES):
            wav = wav_bytes(codec, rate, ch, mask, synth(codec, ch, frames, k + 1))
            path = os.path.join(tmp, name + ".wav")
            with open(path, "wb") as f:
                f.write(wav)
            r = subprocess.run(["ffmpeg", "-nostdin", "-threads", "0", "-i", path, "-f", "s16le", "-ac", "1",
                                "-acodec", "pcm_s16le", "-ar", "16000", "-"], capture_output=True, check=True)
            with open(os.path.join(args.out, "ffmpeg_%s.s16" % name), "wb") as f:
                f.write(r.stdout)
            rows.append("| `%s` | %s | %d | %d | %s | %d | %d | `%s` |" % (
                name, codec, rate, ch, hex(mask) if mask else "-", frames, len(r.stdout) // 2,
                hashlib.sha256(wav).hexdigest()[:16]))
            print(name, len(r.stdout) // 2, file=sys.stderr)

    doc = """# Audio front-end references (audio)

Made by `tools/make_audio_refs.py` with %s and whisper's `assets/mel_filters.npz`
(openai-whisper 20250625; identical to `librosa.filters.mel(sr=16000, n_fft=400, n_mels=80)` of librosa 0.11).

* `mel_80x201.f32` - whisper's `mel_80` filterbank, float32 little-endian, row-major (80 x 201).
* `ffmpeg_<case>.s16` - int16 little-endian output of
  `ffmpeg -nostdin -threads 0 -i <case>.wav -f s16le -ac 1 -acodec pcm_s16le -ar 16000 -`
  (whisper's `load_audio`) for synthetic WAVs. The WAVs are not stored: `tests/test_audio.c` rebuilds
  the same samples with the integer generator `synth()` of the script (case k uses seed k + 1); the last
  column is the sha256 prefix of the WAV file the script gave ffmpeg.

| case | codec | Hz | channels | mask | frames | output samples | wav sha256 |
|---|---|---|---|---|---|---|---|
%s
""" % (ver, "\n".join(rows))
    with open(os.path.join(args.out, "FIXTURE.md"), "w") as f:
        f.write(doc)


if __name__ == "__main__":
    main()
