/* Statement display shared by statement_show.c and request_show.c. */
#ifndef AVOW_SHOW_INT_H
#define AVOW_SHOW_INT_H

#include <jansson.h>

#include <avow/registry.h>

/* Adds the row's view of a statement to `into` ("content", "content_error", or its hex). */
avow_err avow__statement_show_json(const avow_registry *reg, const avow_profile *profile,
                                   const uint8_t *type, size_t type_len, const uint8_t *stmt,
                                   size_t len, json_t *into);

/* The row's text of a statement ("" when no row shows it; a line when it does not decode). */
avow_err avow__statement_show_text(const avow_registry *reg, const avow_profile *profile,
                                   const uint8_t *type, size_t type_len, const uint8_t *stmt,
                                   size_t len, avow_buf *out);

#endif
