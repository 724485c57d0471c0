/*
 * The member readers the "oauth" and "wimse" sections of the service's
 * configuration share (oauth_config.c, wimse_config.c): each value checked
 * for its type and range, refused with AVOW_ERR_CONFIG naming the field.
 */
#ifndef AVOW_SERVICE_CONFIG_MEMBER_H
#define AVOW_SERVICE_CONFIG_MEMBER_H

#include <stddef.h>

#include <jansson.h>

#include "core/internal.h"

avow_err svc_cfg_bad(avow_diag *d, const char *field, const char *what);

/* A non-empty string without NUL into *out (malloc'd; the old value freed). */
avow_err svc_cfg_str(json_t *v, const char *field, char **out, avow_diag *d);

/* An array of at most max such strings, appended to out[*n..], *n counting them. */
avow_err svc_cfg_strs(json_t *v, const char *field, char **out, size_t max, size_t *n,
                      avow_diag *d);

avow_err svc_cfg_bool(json_t *v, const char *field, int *out, avow_diag *d);

/* An integer of min..max. */
avow_err svc_cfg_uint(json_t *v, const char *field, unsigned long min, unsigned long max,
                      unsigned *out, avow_diag *d);

/* A member of a section's plain kinds: its name, where it goes in the section's struct. */
typedef enum svc_cfg_kind { SVC_CFG_STR, SVC_CFG_BOOL, SVC_CFG_UINT } svc_cfg_kind;
typedef struct svc_cfg_field {
    const char *name;
    svc_cfg_kind kind;
    size_t off;             /* of a char *, an int or an unsigned in the struct */
    unsigned long min, max; /* SVC_CFG_UINT */
} svc_cfg_field;

/*
 * Member k (value v) of a section read through table t[0..n) into the
 * struct at base; field is its name for messages ("oauth.leeway"). Returns
 * 1 with *err set when t has k, 0 when it does not.
 */
int svc_cfg_read(const svc_cfg_field *t, size_t n, void *base, const char *k, json_t *v,
                 const char *field, avow_err *err, avow_diag *d);

/* A section's own reader for the members t does not hold; AVOW_ERR_NOT_FOUND: not one of them. */
typedef avow_err (*svc_cfg_member_fn)(void *section, const char *k, json_t *v, const char *field,
                                      avow_diag *d);

/*
 * The section `name` of the configuration (o, a JSON object) into a new
 * zeroed struct of size bytes at *out (the caller's to free, also on a
 * refusal): defaults(section) first (may be NULL), then each member through
 * t[0..n), else through member (may be NULL), else refused as unknown.
 */
avow_err svc_cfg_section(json_t *o, const char *name, size_t size, void (*defaults)(void *),
                         const svc_cfg_field *t, size_t n, svc_cfg_member_fn member, void **out,
                         avow_diag *d);

#endif
