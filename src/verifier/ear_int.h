/*
 * Internal helpers of the EAR code (ear.c, ear_jwt.c). base64url lives in
 * the JOSE module (src/formats/jose.c); its internal names are declared
 * there and reached through this header by the EAR and CMW code.
 */
#ifndef AVOW_EAR_INT_H
#define AVOW_EAR_INT_H

#include "formats/jose_int.h"

#endif
