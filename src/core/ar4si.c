/* Names and order of the AR4SI tiers and trustworthiness-vector keys (avow/ar4si.h). */
#include <string.h>

#include <avow/ar4si.h>

static const char *const TV_NAMES[AVOW_TV_COUNT_] = {
    "instance-identity", "configuration",  "executables",    "file-system",
    "hardware",          "runtime-opaque", "storage-opaque", "sourced-data"};

const char *avow_tv_name(avow_tv_key k)
{
    if ((int)k < 0 || k >= AVOW_TV_COUNT_)
        return NULL;
    return TV_NAMES[k];
}

avow_tv_key avow_tv_by_name(const char *name)
{
    if (name == NULL)
        return AVOW_TV_NONE;
    for (int i = 0; i < AVOW_TV_COUNT_; i++)
        if (strcmp(TV_NAMES[i], name) == 0)
            return (avow_tv_key)i;
    return AVOW_TV_NONE;
}

const char *avow_tier_name(avow_tier t)
{
    switch (t) {
    case AVOW_TIER_NONE:
        return "none";
    case AVOW_TIER_AFFIRMING:
        return "affirming";
    case AVOW_TIER_WARNING:
        return "warning";
    case AVOW_TIER_CONTRAINDICATED:
        return "contraindicated";
    }
    return NULL;
}

avow_err avow_tier_by_name(const char *name, avow_tier *out)
{
    static const avow_tier all[] = {AVOW_TIER_NONE, AVOW_TIER_AFFIRMING, AVOW_TIER_WARNING,
                                    AVOW_TIER_CONTRAINDICATED};
    if (name == NULL || out == NULL)
        return AVOW_ERR_ARG;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (strcmp(avow_tier_name(all[i]), name) == 0) {
            *out = all[i];
            return AVOW_OK;
        }
    return AVOW_ERR_ARG;
}

avow_tier avow_tier_of_value(int v)
{
    int a = v < 0 ? -v : v;
    if (a <= 1)
        return AVOW_TIER_NONE;
    if (a < 32)
        return AVOW_TIER_AFFIRMING;
    if (a < 96)
        return AVOW_TIER_WARNING;
    return AVOW_TIER_CONTRAINDICATED;
}

static int tier_rank(avow_tier t)
{
    switch (t) {
    case AVOW_TIER_AFFIRMING:
        return 0;
    case AVOW_TIER_NONE:
        return 1;
    case AVOW_TIER_WARNING:
        return 2;
    case AVOW_TIER_CONTRAINDICATED:
        return 3;
    }
    return 3;
}

int avow_tier_worse(avow_tier a, avow_tier b)
{
    return tier_rank(a) > tier_rank(b);
}
