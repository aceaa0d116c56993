/*
 * ferry/plugin.h — plugins: shared libraries a host loads at run time, hands
 * objects to and calls by name. Included by ferry.h; do not include alone.
 *
 * Two halves:
 *   - the plugin ABI (ferry_plugin_desc): what a plugin exports. It is
 *     language-neutral and versioned; docs/plugin-abi.md is its contract.
 *     Rust plugins get it from ferry::plugin!; C plugins fill it by hand.
 *   - the host API (ferry_plugin_open/close/find/call): what a host calls.
 */
#ifndef FERRY_PLUGIN_H
#define FERRY_PLUGIN_H

#ifndef FERRY_H
#error "include <ferry.h>, which includes ferry/plugin.h"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* The plugin ABI                                                           */
/* ------------------------------------------------------------------------ */

/* The ABI this header describes. A host opens only plugins built against
 * the same ABI version (FERRY_E_ABI otherwise). */
#define FERRY_PLUGIN_ABI_VERSION 1u

/* The first 8 bytes of every descriptor: "FERRYPLG" read as a little-endian
 * number, so a symbol of that name that is not a descriptor is refused. */
#define FERRY_PLUGIN_MAGIC UINT64_C(0x474C505952524546)

/* The name of the one symbol a plugin exports: its descriptor object. */
#define FERRY_PLUGIN_SYMBOL "ferry_plugin_descriptor"

/* Descriptor flags. */
#define FERRY_PLUGIN_UNLOADABLE 1u /* the code may be unmapped at close (see docs) */

/* The longest signature and type name a descriptor may use. */
#define FERRY_PLUGIN_MAX_ARGS 16
#define FERRY_PLUGIN_MAX_NAME 255

/*
 * One function a plugin offers.
 *
 * `signature` is machine-readable (grammar in docs/plugin-abi.md):
 *     "(own<host.Image>, f64) -> own<img.Image>"
 * Argument kinds: i8 i16 i32 i64 u8 u16 u32 u64 f32 f64 bool str, and
 * handles own<T> (the callee takes the unit), ref<T> (the callee may borrow
 * it shared), mut<T> (the callee may borrow it exclusively). A result is
 * one of the scalars, str, or own<T>, or is absent.
 *
 * `entry` has the C shape
 *     ferry_status entry(A1 a1, ..., An an, R *out);
 * with `out` present only when the signature has a result: integers as
 * <stdint.h> types, f32 float, f64 double, bool _Bool, str `const char *`
 * (NUL-terminated UTF-8, valid for the call; a result str must stay valid
 * while the plugin is open), handles ferry_handle (any one-uint64_t handle
 * struct). The entry writes *out only when it returns FERRY_OK.
 */
typedef struct ferry_plugin_function {
    const char *name;      /* unique in the plugin: [A-Za-z_][A-Za-z0-9_]* */
    const char *signature; /* see above */
    void (*entry)(void);   /* cast to the shape above at the call */
    const char *doc;       /* one line for `ferry inspect`, or NULL */
} ferry_plugin_function;

/*
 * The descriptor a plugin exports as `ferry_plugin_descriptor`. Every
 * pointer in it must stay valid while the library is loaded (static data).
 */
typedef struct ferry_plugin_desc {
    uint64_t magic;       /* FERRY_PLUGIN_MAGIC */
    uint32_t abi_version; /* FERRY_PLUGIN_ABI_VERSION */
    uint32_t flags;       /* 0 or FERRY_PLUGIN_UNLOADABLE */
    const char *name;     /* the plugin's name, e.g. "blur" */
    const char *version;  /* free-form, e.g. "1.2.0" */
    /* Always ferry_table_id, as the plugin's own link resolved it: the host
     * compares it with its own to prove the plugin uses the host's table. */
    uintptr_t (*table_id)(void);
    const ferry_type_desc *types; /* the types whose code lives in the plugin */
    uint32_t ntypes;
    uint32_t nfunctions;
    const ferry_plugin_function *functions;
} ferry_plugin_desc;

/* A token that identifies this copy of libferry's handle table in the
 * process. Plugins store the function in their descriptor (see above). */
FERRY_API uintptr_t ferry_table_id(void);

/* ------------------------------------------------------------------------ */
/* Values for dynamic calls                                                 */
/* ------------------------------------------------------------------------ */

typedef enum ferry_value_kind {
    FERRY_VALUE_VOID = 0, /* no value: the result of a function without one */
    FERRY_VALUE_I8,
    FERRY_VALUE_I16,
    FERRY_VALUE_I32,
    FERRY_VALUE_I64,
    FERRY_VALUE_U8,
    FERRY_VALUE_U16,
    FERRY_VALUE_U32,
    FERRY_VALUE_U64,
    FERRY_VALUE_F32,
    FERRY_VALUE_F64,
    FERRY_VALUE_BOOL,
    FERRY_VALUE_STR,      /* const char *, NUL-terminated UTF-8 */
    FERRY_VALUE_OWNED,    /* a handle whose unit goes to the callee (own<T>) */
    FERRY_VALUE_BORROWED  /* a handle the callee only borrows (ref<T>, mut<T>) */
} ferry_value_kind;

/* A tagged value. The tag must match the signature exactly: an i32 is not
 * accepted for an i64, and a handle must say whether it is given away. */
typedef struct ferry_value {
    ferry_value_kind kind;
    union {
        int8_t i8;
        int16_t i16;
        int32_t i32;
        int64_t i64;
        uint8_t u8;
        uint16_t u16;
        uint32_t u32;
        uint64_t u64;
        float f32;
        double f64;
        bool b;
        const char *str;
        ferry_handle handle;
    } as;
} ferry_value;

/* The name of a value kind ("i32", "own", ...); "?" for unknown values. */
FERRY_API const char *ferry_value_kind_name(ferry_value_kind k);

#define FERRY_VALUE_CTOR(fn, K, field, T)                                                          \
    FERRY_MAYBE_UNUSED static inline ferry_value fn(T v)                                           \
    {                                                                                              \
        ferry_value r;                                                                             \
        r.kind = K;                                                                                \
        r.as.field = v;                                                                            \
        return r;                                                                                  \
    }
FERRY_VALUE_CTOR(ferry_value_i8, FERRY_VALUE_I8, i8, int8_t)
FERRY_VALUE_CTOR(ferry_value_i16, FERRY_VALUE_I16, i16, int16_t)
FERRY_VALUE_CTOR(ferry_value_i32, FERRY_VALUE_I32, i32, int32_t)
FERRY_VALUE_CTOR(ferry_value_i64, FERRY_VALUE_I64, i64, int64_t)
FERRY_VALUE_CTOR(ferry_value_u8, FERRY_VALUE_U8, u8, uint8_t)
FERRY_VALUE_CTOR(ferry_value_u16, FERRY_VALUE_U16, u16, uint16_t)
FERRY_VALUE_CTOR(ferry_value_u32, FERRY_VALUE_U32, u32, uint32_t)
FERRY_VALUE_CTOR(ferry_value_u64, FERRY_VALUE_U64, u64, uint64_t)
FERRY_VALUE_CTOR(ferry_value_f32, FERRY_VALUE_F32, f32, float)
FERRY_VALUE_CTOR(ferry_value_f64, FERRY_VALUE_F64, f64, double)
FERRY_VALUE_CTOR(ferry_value_bool, FERRY_VALUE_BOOL, b, bool)
FERRY_VALUE_CTOR(ferry_value_str, FERRY_VALUE_STR, str, const char *)
/* Gives h's unit to the callee: after the call h is stale, whatever the
 * call returns (the callee received a fresh handle to the same unit). */
FERRY_VALUE_CTOR(ferry_value_owned, FERRY_VALUE_OWNED, handle, ferry_handle)
/* Lends h to the callee for the call; the caller keeps it. */
FERRY_VALUE_CTOR(ferry_value_borrowed, FERRY_VALUE_BORROWED, handle, ferry_handle)
#undef FERRY_VALUE_CTOR

/* One parameter or the result of a parsed signature. */
typedef struct ferry_param {
    ferry_value_kind kind; /* the value tag it takes; VOID: no result */
    bool exclusive;        /* mut<T> (kind FERRY_VALUE_BORROWED) */
    char type_name[FERRY_PLUGIN_MAX_NAME + 1]; /* T of own/ref/mut, else "" */
} ferry_param;

typedef struct ferry_signature {
    uint32_t nargs;
    ferry_param args[FERRY_PLUGIN_MAX_ARGS];
    ferry_param result;
} ferry_signature;

/*
 * Parses a signature string (grammar in docs/plugin-abi.md) into *out.
 * FERRY_E_NULL for NULL arguments; FERRY_E_SIGNATURE, with the offending
 * position in the message, for text that does not parse. *out is written
 * only on success. Pure apart from the last-error message.
 */
FERRY_API ferry_status ferry_signature_parse(const char *text, ferry_signature *out);

/* ------------------------------------------------------------------------ */
/* The host API                                                             */
/* ------------------------------------------------------------------------ */

/*
 * A plugin, owned by ferry: one per plugin file, kept for the life of the
 * process. Usable from a successful ferry_plugin_open until a successful
 * ferry_plugin_close. A pointer kept after the close is safe to pass: every
 * function below refuses it (FERRY_E_STALE, "plugin ... is closed"; the
 * inspection functions return NULL) until the same file is opened again,
 * when ferry_plugin_open returns the same pointer and it refers to the
 * plugin again, as a reused file descriptor does. So reopening a plugin
 * costs no memory, however often it is done.
 */
typedef struct ferry_plugin ferry_plugin;

/*
 * Loads the shared library at `path` and opens it as a plugin. Checks, each
 * with its own message: the file exists (FERRY_E_LOAD) and is a shared
 * object (FERRY_E_LOAD); the loader accepts it (FERRY_E_LOAD, with
 * dlerror's text); it exports FERRY_PLUGIN_SYMBOL (FERRY_E_LOAD) holding a
 * descriptor with the right magic and FERRY_PLUGIN_ABI_VERSION (FERRY_E_ABI);
 * it uses this process's libferry rather than its own copy (FERRY_E_ABI);
 * names and signatures are well-formed (FERRY_E_SIGNATURE); no function
 * name repeats (FERRY_E_SIGNATURE); none of its type names is registered
 * already with another descriptor (FERRY_E_TYPE); the same file is not open
 * already (FERRY_E_BUSY). Then it registers the plugin's types.
 * On failure nothing is registered, the library is unloaded and *out is
 * untouched. On success *out is the plugin, which the caller closes; a
 * file opened and closed before gives the same pointer as then.
 */
FERRY_API ferry_status ferry_plugin_open(const char *path, ferry_plugin **out);

/*
 * Closes a plugin. Refuses with FERRY_E_BUSY — the message lists the live
 * handles (type, kind, where created) — while any handle of one of the
 * plugin's types is live or a call into the plugin is running; the plugin
 * stays open and usable. On success the plugin's types are unregistered (a
 * stale handle of one names the type and says its plugin was closed; making
 * a new handle of one fails with FERRY_E_TYPE), `p` is closed, and the
 * library is unloaded only if it declared FERRY_PLUGIN_UNLOADABLE (its code
 * otherwise stays mapped: Rust's thread-local destructors make unloading a
 * Rust library unsafe, rust-lang/rust#88737). Opening it again works.
 * Closing a closed plugin fails with FERRY_E_STALE.
 */
FERRY_API ferry_status ferry_plugin_close(ferry_plugin *p);

/* The plugin's descriptor, exactly as it exported it (for inspection);
 * NULL for NULL or a closed plugin. Valid while p is open. */
FERRY_API const ferry_plugin_desc *ferry_plugin_descriptor_of(const ferry_plugin *p);

/* The path p was opened from (as given to ferry_plugin_open); NULL for
 * NULL or a closed plugin. The string stays valid after the close. */
FERRY_API const char *ferry_plugin_path(const ferry_plugin *p);

/* The plugin's i-th type as registered (i < descriptor->ntypes), else NULL
 * (also for NULL or a closed plugin). */
FERRY_API const ferry_type *ferry_plugin_type_at(const ferry_plugin *p, size_t i);

/* The plugin's function named `name`, or NULL (no such function, NULL
 * arguments, or a closed plugin). The pointer is the descriptor's entry:
 * valid while p is open. */
FERRY_API const ferry_plugin_function *ferry_plugin_find(const ferry_plugin *p, const char *name);

/*
 * Calls the plugin's function `name` with nargs tagged arguments, through
 * libffi. Before the call, and with nothing changed on failure:
 *   no such function                                  FERRY_E_SIGNATURE
 *   nargs differs from the signature's count          FERRY_E_SIGNATURE
 *   an argument's tag differs from its kind           FERRY_E_SIGNATURE
 *   a str argument is NULL / not UTF-8                FERRY_E_NULL / _SIGNATURE
 *   a function with a result and ret == NULL          FERRY_E_NULL
 *   a handle argument: null, invalid, stale (moved by an earlier call
 *   included), of another type, on the wrong thread, borrowed in a way the
 *   parameter cannot share, or of a kind the parameter does not take
 *   (own<T>: unique, shared or local; ref<T>: not weak; mut<T>: unique or
 *   lent mut): the status ferry_check/borrow/drop would give.
 * Then an own<T> argument's unit moves to a fresh handle passed to the
 * callee (the caller's handle is stale from then on, whatever the call
 * returns; the callee owns the unit even when it fails; from the check to
 * the move the handle is locked, so a borrow racing the call fails with
 * FERRY_E_BORROWED rather than the call failing half-way), and a ref<T> or
 * mut<T> argument is kept alive for the duration of the call (a drop from
 * another thread meanwhile fails with FERRY_E_BORROWED).
 * Returns what the function returns: FERRY_OK, its own error status with
 * its message, or FERRY_E_PANIC when Rust code panicked. On FERRY_OK, *ret
 * (if ret is not NULL) holds the result, FERRY_VALUE_VOID when there is
 * none; an own<T> result is a new live handle the caller owns. A str
 * result stays valid while the plugin is open. Results are checked, and a
 * bad one fails the call with FERRY_E_SIGNATURE: an own<T> result must be a
 * live handle of T, of kind unique, shared or local, and not a handle the
 * caller only lent (one the callee owned — another type, a weak handle —
 * is dropped; a lent one is left alone); a bool must be 0 or 1; a str must
 * be non-NULL UTF-8. A bool argument reaches the callee as 0 or 1.
 */
FERRY_API ferry_status ferry_plugin_call(ferry_plugin *p, const char *name,
                                         const ferry_value *args, size_t nargs, ferry_value *ret);

#ifdef __cplusplus
}
#endif

#endif /* FERRY_PLUGIN_H */
