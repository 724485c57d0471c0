/* avow/export.h - symbol visibility: only what is marked here leaves the library. */
#ifndef AVOW_EXPORT_H
#define AVOW_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define AVOW_EXPORT     __attribute__((visibility("default")))
#define AVOW_MUST_CHECK __attribute__((warn_unused_result))
#else
#define AVOW_EXPORT
#define AVOW_MUST_CHECK
#endif

#endif
