/* A QR code in a terminal: libqrencode makes the modules, and each text row
 * shows two rows of them with the half blocks ▀ ▄ █. */
#include <errno.h>
#include <qrencode.h>
#include <string.h>

#include "cli/cli.h"

/* Light modules around the code; the standard asks for 4, phones read 2. */
#define QR_MARGIN 2

static bool dark(const QRcode *qr, int x, int y)
{
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return false;
	return qr->data[y * qr->width + x] & 1;
}

/*
 * With colour, black on white whatever the terminal's theme, and the blocks
 * draw the dark modules. Without (a file, a pipe), the blocks draw the light
 * modules, as `qrencode -t UTF8' does: right on a dark background, where
 * most terminals are.
 */
int cli_print_qr(FILE *f, const char *text, bool colour)
{
	static const char *const glyph[4] = { " ", "\u2584", "\u2580", "\u2588" };
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1);

	if (!qr) {
		fprintf(stderr, "manta: cannot make a QR code: %s\n", strerror(errno));
		return CLI_EXIT_FAIL;
	}
	for (int y = -QR_MARGIN; y < qr->width + QR_MARGIN; y += 2) {
		if (colour)
			fputs("\033[30;107m", f);
		for (int x = -QR_MARGIN; x < qr->width + QR_MARGIN; x++) {
			bool top = dark(qr, x, y), bottom = dark(qr, x, y + 1);

			if (!colour) {
				top = !top;
				/* Below the last row is margin: light. */
				bottom = y + 1 < qr->width + QR_MARGIN ? !bottom : false;
			}
			fputs(glyph[top * 2 + bottom], f);
		}
		fputs(colour ? "\033[0m\n" : "\n", f);
	}
	QRcode_free(qr);
	return fflush(f) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}
