/* avow/avow.h - every public header of libavow. */
#ifndef AVOW_AVOW_H
#define AVOW_AVOW_H

#include <avow/appraise.h>
#include <avow/ar4si.h>
#include <avow/bytes.h>
#include <avow/ca.h>
#include <avow/claim_value.h>
#include <avow/ca_dir.h>
#include <avow/claims.h>
#include <avow/cmw.h>
#include <avow/cmp_server.h>
#include <avow/cose.h>
#include <avow/ear.h>
#include <avow/err.h>
#include <avow/evidence.h>
#include <avow/evidence_request.h>
#include <avow/ledger.h>
#include <avow/jose.h>
#include <avow/kat.h>
#include <avow/nonce.h>
#include <avow/oauth.h>
#include <avow/pkcs11.h>
#include <avow/policy.h>
#include <avow/profile.h>
#include <avow/psa.h>
#include <avow/registry.h>
#include <avow/request.h>
#include <avow/request_verify.h>
#include <avow/sigalg.h>
#include <avow/service.h>
#include <avow/signer.h>
#include <avow/times.h>
#include <avow/verification.h>
#include <avow/verify.h>
#include <avow/wimse.h>
#include <avow/x509.h>

#define AVOW_VERSION "0.1.0"

#endif
