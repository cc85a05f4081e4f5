/*
 * draw.h - the raster primitives upstream's draw_pose uses, as OpenCV 4.x
 * (4.6 .. 4.12, drawing.cpp) behaves for the integer calls it makes.
 *
 * Moore-AnimateAnyone draws its pose pictures with cv2.ellipse2Poly +
 * cv2.fillConvexPoly (body limbs), cv2.circle(thickness=-1) (joints, hand and
 * face dots) and cv2.line(thickness=2) (hand edges), all LINE_8, shift 0, no
 * anti-aliasing. The network was trained on exactly those pixels, so these
 * routines reproduce OpenCV's observable raster output bit for bit, as
 * described in tests/fixtures/pose-render/FIXTURE.md ("Rasterisation"). They
 * are written from that description, not from OpenCV's source.
 *
 * Pictures are anim_image RGB8 (row-major, R G B per pixel). Colours are
 * given as three bytes in the picture's channel order; every write replaces
 * the pixel (no blending). Everything is clipped at the canvas edge, and a
 * shape partly outside keeps the pixels it would have drawn inside.
 *
 * Coordinates: the routines are exact for |x|, |y| up to about 2^24 (the
 * renderer keeps them far below: see render.h); beyond that int64 16.16
 * arithmetic could overflow.
 */
#ifndef ANIM_POSE_DRAW_H
#define ANIM_POSE_DRAW_H

#include <stdint.h>

#include "io/image.h"

/* ellipse2Poly(.., 0, 360, delta 1) gives at most 361 points. */
#define POSE_ELLIPSE_MAX_PTS 361

typedef struct pose_pt {
    int x, y;
} pose_pt;

/* cv2.ellipse2Poly(center, (a, b), angle, 0, 360, 1): the closed polygon
 * upstream fills for a limb. out must hold POSE_ELLIPSE_MAX_PTS points;
 * returns the number written (2..361). a, b >= 0. */
int pose_ellipse2poly(int cx, int cy, int a, int b, int angle, pose_pt *out);

/* cv2.fillConvexPoly(img, v[0..n), colour) with LINE_8 and shift 0: the
 * outline (8-connected Bresenham per edge, clipped) plus the 16.16 scanline
 * fill. n <= 0 draws nothing; n < 3 draws the outline only. */
void pose_fill_convex_poly(anim_image *img, const pose_pt *v, int n, const uint8_t rgb[3]);

/* cv2.circle(img, (cx, cy), radius, colour, thickness=-1), LINE_8: the
 * midpoint filled circle (r = 4: row half-widths 0,2,3,3,4,3,3,2,0).
 * radius < 0 draws nothing. */
void pose_circle_filled(anim_image *img, int cx, int cy, int radius, const uint8_t rgb[3]);

/* cv2.line(img, p1, p2, colour, thickness), LINE_8, shift 0. thickness 1 is
 * the plain 8-connected Bresenham line; thickness >= 2 is OpenCV's ThickLine
 * (a 16.16 quad filled at shift 16 plus round caps). Upstream only uses
 * thickness 2, which is what the fixture checks. thickness < 1 draws nothing. */
void pose_line(anim_image *img, int x1, int y1, int x2, int y2, int thickness, const uint8_t rgb[3]);

/* OpenCV's saturate_cast<uchar>(double): round half to even, then clamp to
 * 0..255 (NaN -> 0). How a colour passed as floats reaches the canvas. */
uint8_t pose_saturate_u8(double v);

#endif
