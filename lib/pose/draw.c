/*
 * draw.c - OpenCV 4.x raster behaviour for the calls draw_pose makes (see
 * draw.h and tests/fixtures/pose-render/FIXTURE.md, "Rasterisation").
 *
 * Reproduced from the fixture's description of OpenCV's observable output
 * (OpenCV 4.6/4.7/4.8/4.12 give identical pixels), in this project's code:
 *   - ellipse2Poly: OpenCV's 7-decimal float sine table, double arithmetic,
 *     half-to-even rounding (cvRound), consecutive duplicates dropped;
 *   - FillConvexPoly: each edge drawn as a line (shift 0: clipped 8-connected
 *     Bresenham; shift 16: the 16.16 DDA "Line2"), then a 16.16 fixed-point
 *     scanline fill driven by two edge walkers that share a budget of n
 *     vertex steps;
 *   - Circle: the integer midpoint filled circle;
 *   - ThickLine: a quad around the segment filled at shift 16, then radius-1
 *     caps at both ends.
 * Integer details (int64 16.16 values, truncating divisions, floor shifts)
 * are copied on purpose: they decide single pixels at the edges of every limb.
 *
 * Layout: anim_image RGB8, row-major; (0,0) is the top-left pixel.
 */
#include "pose/draw.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FIX_SHIFT 16
#define FIX_ONE ((int64_t)1 << FIX_SHIFT)
#define FIX_HALF (FIX_ONE >> 1)

/* v * 2^s without the undefined behaviour of shifting a negative value. */
static inline int64_t shl(int64_t v, int s) { return v * ((int64_t)1 << s); }

/* floor(v / 2^s): OpenCV's arithmetic right shift of a possibly negative
 * int64 (x86 sar), spelled so that it does not depend on the compiler. */
static inline int64_t sar(int64_t v, int s) {
    int64_t d = (int64_t)1 << s;
    int64_t q = v / d;
    return (v % d != 0 && v < 0) ? q - 1 : q;
}

static inline void put_px(anim_image *img, int64_t x, int64_t y, const uint8_t rgb[3]) {
    if (x < 0 || y < 0 || x >= img->w || y >= img->h) return;
    uint8_t *p = img->rgb + ((size_t)y * (size_t)img->w + (size_t)x) * 3;
    p[0] = rgb[0]; p[1] = rgb[1]; p[2] = rgb[2];
}

/* Fill row y from x1 to x2 inclusive, clipped. */
static void hspan(anim_image *img, int64_t y, int64_t x1, int64_t x2, const uint8_t rgb[3]) {
    if (y < 0 || y >= img->h || x2 < 0 || x1 >= img->w || x1 > x2) return;
    if (x1 < 0) x1 = 0;
    if (x2 >= img->w) x2 = img->w - 1;
    uint8_t *p = img->rgb + ((size_t)y * (size_t)img->w + (size_t)x1) * 3;
    for (int64_t x = x1; x <= x2; x++, p += 3) { p[0] = rgb[0]; p[1] = rgb[1]; p[2] = rgb[2]; }
}

uint8_t pose_saturate_u8(double v) {
    if (!(v == v)) return 0;         /* cvRound(NaN) is INT_MIN on x86 -> 0 */
    if (v <= 0) return 0;
    if (v >= 255) return 255;
    return (uint8_t)lrint(v);        /* half to even in the default rounding mode */
}

/* ---- ellipse2Poly -------------------------------------------------------- */

/* sin(k degrees) for k = 0..90, rounded to 7 decimals, as float: the values of
 * OpenCV's SinTable (which spans 0..450 degrees; the rest follows by symmetry,
 * rounding to 7 decimals being symmetric). Using sinf() instead moves polygon
 * points by a pixel in places. */
static const float sin_q1[91] = {
    0.0000000f, 0.0174524f, 0.0348995f, 0.0523360f, 0.0697565f, 0.0871557f, 0.1045285f,
    0.1218693f, 0.1391731f, 0.1564345f, 0.1736482f, 0.1908090f, 0.2079117f, 0.2249511f,
    0.2419219f, 0.2588190f, 0.2756374f, 0.2923717f, 0.3090170f, 0.3255682f, 0.3420201f,
    0.3583679f, 0.3746066f, 0.3907311f, 0.4067366f, 0.4226183f, 0.4383711f, 0.4539905f,
    0.4694716f, 0.4848096f, 0.5000000f, 0.5150381f, 0.5299193f, 0.5446390f, 0.5591929f,
    0.5735764f, 0.5877853f, 0.6018150f, 0.6156615f, 0.6293204f, 0.6427876f, 0.6560590f,
    0.6691306f, 0.6819984f, 0.6946584f, 0.7071068f, 0.7193398f, 0.7313537f, 0.7431448f,
    0.7547096f, 0.7660444f, 0.7771460f, 0.7880108f, 0.7986355f, 0.8090170f, 0.8191520f,
    0.8290376f, 0.8386706f, 0.8480481f, 0.8571673f, 0.8660254f, 0.8746197f, 0.8829476f,
    0.8910065f, 0.8987940f, 0.9063078f, 0.9135455f, 0.9205049f, 0.9271839f, 0.9335804f,
    0.9396926f, 0.9455186f, 0.9510565f, 0.9563048f, 0.9612617f, 0.9659258f, 0.9702957f,
    0.9743701f, 0.9781476f, 0.9816272f, 0.9848078f, 0.9876883f, 0.9902681f, 0.9925462f,
    0.9945219f, 0.9961947f, 0.9975641f, 0.9986295f, 0.9993908f, 0.9998477f, 1.0000000f,
};

/* The table entry for k degrees, k in 0..450. */
static float sin_table(int k) {
    k %= 360;
    if (k <= 90) return sin_q1[k];
    if (k <= 180) return sin_q1[180 - k];
    if (k <= 270) return -sin_q1[k - 180];
    return -sin_q1[360 - k];
}

int pose_ellipse2poly(int cx, int cy, int a, int b, int angle, pose_pt *out) {
    while (angle < 0) angle += 360;
    while (angle > 360) angle -= 360;
    /* cos and sin of the rotation are table floats, widened in the products */
    const double alpha = sin_table(450 - angle), beta = sin_table(angle);
    int n = 0;
    for (int i = 0; i <= 360; i++) {
        double x = a * (double)sin_table(450 - i);
        double y = b * (double)sin_table(i);
        double px = ((double)cx + x * alpha) - y * beta;
        double py = ((double)cy + x * beta) + y * alpha;
        /* cvRound: half to even (lrint in the default mode), never floor(x+0.5) */
        pose_pt p = {(int)lrint(px), (int)lrint(py)};
        if (n > 0 && p.x == out[n - 1].x && p.y == out[n - 1].y) continue;
        out[n++] = p;
    }
    /* a single distinct point becomes the two-point polygon [centre, centre] */
    if (n == 1) {
        out[0].x = out[1].x = cx;
        out[0].y = out[1].y = cy;
        n = 2;
    }
    return n;
}

/* ---- lines ---------------------------------------------------------------- */

enum { OUT_LEFT = 1, OUT_RIGHT = 2, OUT_TOP = 4, OUT_BOTTOM = 8 };

static int outcode_x(int64_t x, int64_t right) { return (x < 0) * OUT_LEFT + (x > right) * OUT_RIGHT; }

/* OpenCV's clipLine on a w x h area (int64): Cohen-Sutherland with one pass
 * over y (each end outside the top/bottom moves onto that edge), then one
 * over x. The intercepts are computed in double from the current (possibly
 * already moved) ends and truncated toward zero; that truncation decides the
 * first pixel of a clipped limb edge. Returns false when nothing is left. */
static bool clip_line(int64_t w, int64_t h, int64_t *x1, int64_t *y1, int64_t *x2, int64_t *y2) {
    if (w <= 0 || h <= 0) return false;
    const int64_t right = w - 1, bottom = h - 1;
    int c1 = outcode_x(*x1, right) + (*y1 < 0) * OUT_TOP + (*y1 > bottom) * OUT_BOTTOM;
    int c2 = outcode_x(*x2, right) + (*y2 < 0) * OUT_TOP + (*y2 > bottom) * OUT_BOTTOM;
    if ((c1 & c2) != 0 || (c1 | c2) == 0) return (c1 | c2) == 0;

    if (c1 & (OUT_TOP | OUT_BOTTOM)) {
        int64_t e = (c1 & OUT_TOP) ? 0 : bottom;
        *x1 += (int64_t)((double)(e - *y1) * (double)(*x2 - *x1) / (double)(*y2 - *y1));
        *y1 = e;
        c1 = outcode_x(*x1, right);
    }
    if (c2 & (OUT_TOP | OUT_BOTTOM)) {
        int64_t e = (c2 & OUT_TOP) ? 0 : bottom;
        *x2 += (int64_t)((double)(e - *y2) * (double)(*x2 - *x1) / (double)(*y2 - *y1));
        *y2 = e;
        c2 = outcode_x(*x2, right);
    }
    if ((c1 & c2) == 0 && (c1 | c2) != 0) {
        if (c1) {
            int64_t e = (c1 == OUT_LEFT) ? 0 : right;
            *y1 += (int64_t)((double)(e - *x1) * (double)(*y2 - *y1) / (double)(*x2 - *x1));
            *x1 = e;
            c1 = 0;
        }
        if (c2) {
            int64_t e = (c2 == OUT_LEFT) ? 0 : right;
            *y2 += (int64_t)((double)(e - *x2) * (double)(*y2 - *y1) / (double)(*x2 - *x1));
            *x2 = e;
            c2 = 0;
        }
    }
    return (c1 | c2) == 0;
}

/* 8-connected Bresenham between integer pixels (OpenCV's Line through a
 * left-to-right LineIterator): clipped first if an end is off the canvas,
 * ends swapped so x grows, D + 1 pixels along the major axis. */
static void line8(anim_image *img, int64_t x1, int64_t y1, int64_t x2, int64_t y2, const uint8_t rgb[3]) {
    if (x1 < 0 || x1 >= img->w || x2 < 0 || x2 >= img->w || y1 < 0 || y1 >= img->h || y2 < 0 ||
        y2 >= img->h) {
        if (!clip_line(img->w, img->h, &x1, &y1, &x2, &y2)) return;
    }
    if (x2 < x1) {
        int64_t t = x1; x1 = x2; x2 = t;
        t = y1; y1 = y2; y2 = t;
    }
    int64_t dx = x2 - x1, dy = y2 - y1, sy = 1;
    if (dy < 0) { dy = -dy; sy = -1; }
    const bool ymajor = dy > dx;
    const int64_t big = ymajor ? dy : dx, small = ymajor ? dx : dy;
    int64_t err = big - 2 * small, x = x1, y = y1;
    for (int64_t k = 0; k <= big; k++) {
        put_px(img, x, y, rgb);
        /* minor step when err < 0, tested before this pixel's update */
        if (err < 0) {
            if (ymajor) x += 1; else y += sy;
            err += 2 * big;
        }
        if (ymajor) y += sy; else x += 1;
        err -= 2 * small;
    }
}

/* OpenCV's Line2: a 16.16 DDA between fixed-point ends (the outline of a
 * polygon filled at shift 16, i.e. the body of a thick line). Clipped against
 * (W << 16) x (H << 16); oriented along the major axis (x only when strictly
 * longer); the rounded end point is plotted first, then count + 1 points from
 * the start; each point is bounds-checked. */
static void line_fixed(anim_image *img, int64_t x1, int64_t y1, int64_t x2, int64_t y2, const uint8_t rgb[3]) {
    if (!clip_line(shl(img->w, FIX_SHIFT), shl(img->h, FIX_SHIFT), &x1, &y1, &x2, &y2)) return;
    int64_t dx = x2 - x1, dy = y2 - y1;
    const int64_t ax = dx < 0 ? -dx : dx, ay = dy < 0 ? -dy : dy;
    const bool xmajor = ax > ay;
    int64_t step, count;
    if (xmajor) {
        if (dx < 0) {
            int64_t t = x1; x1 = x2; x2 = t;
            t = y1; y1 = y2; y2 = t;
            dy = -dy;
        }
        step = dy * FIX_ONE / (ax | 1);          /* C division truncates, as OpenCV's */
        count = sar(x2 - x1, FIX_SHIFT);
    } else {
        if (dy < 0) {
            int64_t t = x1; x1 = x2; x2 = t;
            t = y1; y1 = y2; y2 = t;
            dx = -dx;
        }
        step = dx * FIX_ONE / (ay | 1);
        count = sar(y2 - y1, FIX_SHIFT);
    }
    x1 += FIX_HALF;
    y1 += FIX_HALF;
    put_px(img, sar(x2 + FIX_HALF, FIX_SHIFT), sar(y2 + FIX_HALF, FIX_SHIFT), rgb);
    if (xmajor) {
        int64_t x = sar(x1, FIX_SHIFT), y = y1;
        for (; count >= 0; count--, x++, y += step) put_px(img, x, sar(y, FIX_SHIFT), rgb);
    } else {
        int64_t x = x1, y = sar(y1, FIX_SHIFT);
        for (; count >= 0; count--, y++, x += step) put_px(img, sar(x, FIX_SHIFT), y, rgb);
    }
}

/* ---- convex polygon ----------------------------------------------------- */

typedef struct pt64 {
    int64_t x, y;
} pt64;

/* One side of the scan: walks the polygon from the top vertex in direction
 * di (+1 forwards, n-1 backwards); x and dx are 16.16. */
typedef struct edge_walker {
    int idx, di;
    int64_t x, dx, ye;
} edge_walker;

/* FillConvexPoly with vertices in fixed point with `shift` fraction bits
 * (0 for the pixel polygons of the limbs, 16 for thick-line quads). */
static void fill_convex(anim_image *img, const pt64 *v, int n, int shift, const uint8_t rgb[3]) {
    if (n <= 0) return;
    const int64_t delta = shift ? (int64_t)1 << (shift - 1) : 0;   /* rounds vertex rows */
    const int up = FIX_SHIFT - shift;                                /* to 16.16 */

    /* outline, edge by edge starting with v[n-1] -> v[0]; bounding box and
     * the first vertex with the smallest y */
    int64_t xmin = v[0].x, xmax = v[0].x, ymin = v[0].y, ymax = v[0].y;
    int imin = 0;
    pt64 p0 = v[n - 1];
    for (int i = 0; i < n; i++) {
        const pt64 p = v[i];
        if (p.y < ymin) { ymin = p.y; imin = i; }
        if (p.y > ymax) ymax = p.y;
        if (p.x > xmax) xmax = p.x;
        if (p.x < xmin) xmin = p.x;
        if (shift == 0) line8(img, p0.x, p0.y, p.x, p.y, rgb);
        else line_fixed(img, shl(p0.x, up), shl(p0.y, up), shl(p.x, up), shl(p.y, up), rgb);
        p0 = p;
    }
    xmin = sar(xmin + delta, shift);
    xmax = sar(xmax + delta, shift);
    ymin = sar(ymin + delta, shift);
    ymax = sar(ymax + delta, shift);
    if (n < 3 || xmax < 0 || ymax < 0 || xmin >= img->w || ymin >= img->h) return;
    if (ymax > img->h - 1) ymax = img->h - 1;

    edge_walker e[2] = {{imin, 1, -FIX_ONE, 0, ymin}, {imin, n - 1, -FIX_ONE, 0, ymin}};
    int budget = n;   /* vertex steps left, shared by both walkers */
    int64_t y = ymin;
    do {
        /* rows above the canvas where neither walker turns a corner only
         * advance x: jump over them in one step (same sums, no loop of
         * millions of rows for a far-off limb) */
        if (y < 0) {
            int64_t target = e[0].ye < e[1].ye ? e[0].ye : e[1].ye;
            if (target > 0) target = 0;
            if (target > y) {
                e[0].x += e[0].dx * (target - y);
                e[1].x += e[1].dx * (target - y);
                y = target;
            }
        }
        for (int i = 0; i < 2; i++) {
            if (y < e[i].ye) continue;
            int idx0 = e[i].idx, idx = idx0 + e[i].di;
            if (idx >= n) idx -= n;
            while (budget-- > 0) {
                const int64_t ty = sar(v[idx].y + delta, shift);
                if (ty > y) {
                    const int64_t xs = shl(v[idx0].x, up), xe = shl(v[idx].x, up);
                    e[i].ye = ty;
                    e[i].dx = ((xe - xs) * 2 + (ty - y)) / (2 * (ty - y));   /* truncating */
                    e[i].x = xs;
                    e[i].idx = idx;
                    break;
                }
                idx0 = idx;
                idx += e[i].di;
                if (idx >= n) idx -= n;
            }
        }
        if (budget < 0) break;   /* walked all the way round: stop before this row */
        if (y >= 0) {
            const int l = e[0].x > e[1].x ? 1 : 0;
            hspan(img, y, sar(e[l].x + FIX_HALF, FIX_SHIFT), sar(e[1 - l].x + FIX_HALF, FIX_SHIFT), rgb);
        }
        e[0].x += e[0].dx;
        e[1].x += e[1].dx;
    } while (++y <= ymax);
}

void pose_fill_convex_poly(anim_image *img, const pose_pt *v, int n, const uint8_t rgb[3]) {
    if (n <= 0) return;
    /* limbs have at most 361 points: no heap for them */
    pt64 stack[POSE_ELLIPSE_MAX_PTS];
    pt64 *p = n <= POSE_ELLIPSE_MAX_PTS ? stack : malloc((size_t)n * sizeof *p);
    if (!p) return;
    for (int i = 0; i < n; i++) { p[i].x = v[i].x; p[i].y = v[i].y; }
    fill_convex(img, p, n, 0, rgb);
    if (p != stack) free(p);
}

/* ---- circle --------------------------------------------------------------- */

void pose_circle_filled(anim_image *img, int cx, int cy, int radius, const uint8_t rgb[3]) {
    if (radius < 0) return;
    /* Midpoint walk over one octant: each step (dx, dy) gives the half-width
     * dx to rows cy +- dy and dy to rows cy +- dx. Filling the union of those
     * spans, clipped, is exactly what OpenCV's Circle(fill) leaves. */
    int64_t dx = radius, dy = 0, err = 0, plus = 1, minus = 2 * (int64_t)radius - 1;
    while (dx >= dy) {
        hspan(img, (int64_t)cy - dy, (int64_t)cx - dx, (int64_t)cx + dx, rgb);
        hspan(img, (int64_t)cy + dy, (int64_t)cx - dx, (int64_t)cx + dx, rgb);
        hspan(img, (int64_t)cy - dx, (int64_t)cx - dy, (int64_t)cx + dy, rgb);
        hspan(img, (int64_t)cy + dx, (int64_t)cx - dy, (int64_t)cx + dy, rgb);
        dy++;
        err += plus;
        plus += 2;
        if (err > 0) {
            err -= minus;
            dx--;
            minus -= 2;
        }
    }
}

/* ---- thick line ------------------------------------------------------------ */

void pose_line(anim_image *img, int x1, int y1, int x2, int y2, int thickness, const uint8_t rgb[3]) {
    if (thickness < 1) return;
    if (thickness == 1) {
        line8(img, x1, y1, x2, y2, rgb);
        return;
    }
    const int64_t p0x = shl(x1, FIX_SHIFT), p0y = shl(y1, FIX_SHIFT);
    const int64_t p1x = shl(x2, FIX_SHIFT), p1y = shl(y2, FIX_SHIFT);
    /* half-width in 16.16: thickness/2 px, plus half a pixel when odd */
    const int64_t half = (int64_t)thickness << (FIX_SHIFT - 1);
    const double dx = (double)(p0x - p1x) / 65536.0, dy = (double)(p1y - p0y) / 65536.0;
    const double r2 = dx * dx + dy * dy;
    if (fabs(r2) > DBL_EPSILON) {
        const double r = ((double)half + (double)(thickness & 1) * (double)FIX_ONE * 0.5) / sqrt(r2);
        const int64_t dpx = (int64_t)llrint(dy * r), dpy = (int64_t)llrint(dx * r);
        const pt64 quad[4] = {
            {p0x + dpx, p0y + dpy}, {p0x - dpx, p0y - dpy}, {p1x - dpx, p1y - dpy}, {p1x + dpx, p1y + dpy}};
        fill_convex(img, quad, 4, FIX_SHIFT, rgb);
    }
    /* round caps, drawn after the body: a filled circle of radius
     * (half + 0.5) >> 16 at each original end (a plus sign for thickness 2) */
    const int cap = (int)sar(half + FIX_HALF, FIX_SHIFT);
    pose_circle_filled(img, (int)sar(p0x + FIX_HALF, FIX_SHIFT), (int)sar(p0y + FIX_HALF, FIX_SHIFT), cap, rgb);
    pose_circle_filled(img, (int)sar(p1x + FIX_HALF, FIX_SHIFT), (int)sar(p1y + FIX_HALF, FIX_SHIFT), cap, rgb);
}
