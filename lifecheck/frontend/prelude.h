/*
 * lifecheck prelude: force-included before every translation unit.
 *
 * The analysed tree is preprocessed with -nostdinc, so libc and glib come
 * from here, not from the host.  Only what parsing needs is declared:
 * typedef names (pycparser must know them), macros that take types
 * (g_new, va_arg, offsetof), and string macros (PRIx64).  Functions need no
 * prototypes: pycparser does not type-check calls.
 *
 * GNU attributes are dropped by defining __attribute__ away; glib's cleanup
 * macros are turned into the C storage class `auto`, which QEMU never uses
 * otherwise, so the model can tell cleanup-attributed locals apart.
 */
#ifndef LIFECHECK_PRELUDE_H
#define LIFECHECK_PRELUDE_H

#define __attribute__(x)
#define __attribute(x)
#define __extension__
#define __restrict restrict
#define __restrict__ restrict
#define __inline inline
#define __inline__ inline
#define __volatile__ volatile
#define __signed__ signed
#define __const const
#define __typeof__ typeof
#define __typeof typeof
#define __alignof__(x) sizeof(x)
#define _Alignof(x) sizeof(x)
#define _Alignas(x)
#define __thread
#define _Thread_local
#define __auto_type long
#define _Static_assert(...)
#define static_assert(...)
#define __builtin_offsetof(t, m) ((unsigned long)&(((t *)0)->m))
#define __builtin_types_compatible_p(a, b) 1
#define __builtin_choose_expr(c, a, b) (a)
#define __builtin_va_arg(ap, t) (*(t *)0)
#define __builtin_convertvector(v, t) (*(t *)0)
#define __builtin_shufflevector(...) 0
#define __builtin_bit_cast(t, v) (*(t *)0)
#define _Float128 double
#define _Float64 double
#define _Float32 float
#define __float128 double
#define _Float16 float
#define __bf16 float
#define __int128 long long
#define _Noreturn
#define __label__ int

/* ---- libc ---- */
typedef unsigned long size_t;
typedef long ssize_t;
typedef long ptrdiff_t;
typedef long intptr_t;
typedef unsigned long uintptr_t;
typedef long intmax_t;
typedef unsigned long uintmax_t;
typedef int wchar_t;
typedef signed char int8_t;
typedef short int16_t;
typedef int int32_t;
typedef long int64_t;
typedef unsigned char uint8_t;
typedef unsigned short uint16_t;
typedef unsigned int uint32_t;
typedef unsigned long uint64_t;
typedef int int_least8_t, int_least16_t, int_least32_t, int_fast8_t, int_fast16_t, int_fast32_t;
typedef long int_least64_t, int_fast64_t;
typedef unsigned int uint_least8_t, uint_least16_t, uint_least32_t, uint_fast8_t, uint_fast16_t, uint_fast32_t;
typedef unsigned long uint_least64_t, uint_fast64_t;
typedef long long __int128_t;
typedef unsigned long long __uint128_t;
typedef int __builtin_va_list;
typedef int va_list;
typedef int __gnuc_va_list;
typedef long off_t, off64_t, loff_t, time_t, suseconds_t, clock_t, blkcnt_t, blksize_t;
typedef int pid_t, uid_t, gid_t, mode_t, id_t, key_t, clockid_t, socklen_t, sig_atomic_t;
typedef unsigned long dev_t, ino_t, nlink_t, fsblkcnt_t, fsfilcnt_t, rlim_t, sigset_t;
typedef unsigned short sa_family_t, in_port_t;
typedef unsigned int in_addr_t, useconds_t;
typedef struct _IO_FILE FILE;
typedef struct __dirstream DIR;
typedef int jmp_buf, sigjmp_buf;
typedef int fd_set, nfds_t;
typedef void *timer_t;
typedef unsigned long pthread_t;
typedef struct lifecheck_pthread_opaque pthread_attr_t, pthread_mutex_t, pthread_mutexattr_t,
    pthread_cond_t, pthread_condattr_t, pthread_key_t, pthread_once_t, pthread_rwlock_t,
    pthread_rwlockattr_t, pthread_spinlock_t, pthread_barrier_t, pthread_barrierattr_t;
typedef struct lifecheck_sem_opaque sem_t;
typedef struct lifecheck_mbstate_opaque mbstate_t;
typedef struct lifecheck_siginfo_opaque siginfo_t;
typedef struct lifecheck_stack_opaque stack_t;
typedef struct lifecheck_ucontext_opaque ucontext_t;
typedef struct lifecheck_locale_opaque *locale_t;
typedef struct lifecheck_div_opaque div_t, ldiv_t, lldiv_t;
typedef struct lifecheck_regex_opaque regex_t, regmatch_t;
typedef struct lifecheck_glob_opaque glob_t;
typedef struct lifecheck_fpos_opaque fpos_t;
typedef void (*sighandler_t)(int);
typedef void (*__sighandler_t)(int);
typedef int cpu_set_t;
typedef unsigned long __u64, __le64, __be64, u64;
typedef long __s64, s64;
typedef unsigned int __u32, __le32, __be32, u32, __wsum;
typedef int __s32, s32;
typedef unsigned short __u16, __le16, __be16, u16, __sum16;
typedef short __s16, s16;
typedef unsigned char __u8, u8;
typedef signed char __s8, s8;
typedef unsigned int __poll_t;
typedef int __kernel_pid_t;
typedef unsigned long __kernel_size_t;
typedef long __kernel_off_t;

#define NULL ((void *)0)
#define bool _Bool
#define true 1
#define false 0
#define EOF (-1)
#define offsetof(t, m) ((size_t)&(((t *)0)->m))
#define va_start(ap, last) ((void)0)
#define va_end(ap) ((void)0)
#define va_copy(d, s) ((void)0)
#define va_arg(ap, t) (*(t *)0)
#define assert(x) ((void)(x))
#define alloca(n) __builtin_alloca(n)
#define CHAR_BIT 8
#define SCHAR_MIN (-128)
#define SCHAR_MAX 127
#define UCHAR_MAX 255
#define CHAR_MIN (-128)
#define CHAR_MAX 127
#define SHRT_MIN (-32768)
#define SHRT_MAX 32767
#define USHRT_MAX 65535
#define INT_MIN (-2147483647 - 1)
#define INT_MAX 2147483647
#define UINT_MAX 4294967295U
#define LONG_MIN (-9223372036854775807L - 1)
#define LONG_MAX 9223372036854775807L
#define ULONG_MAX 18446744073709551615UL
#define LLONG_MIN (-9223372036854775807LL - 1)
#define LLONG_MAX 9223372036854775807LL
#define ULLONG_MAX 18446744073709551615ULL
#define INT8_MIN (-128)
#define INT16_MIN (-32768)
#define INT32_MIN (-2147483647 - 1)
#define INT64_MIN (-9223372036854775807L - 1)
#define INT8_MAX 127
#define INT16_MAX 32767
#define INT32_MAX 2147483647
#define INT64_MAX 9223372036854775807L
#define UINT8_MAX 255
#define UINT16_MAX 65535
#define UINT32_MAX 4294967295U
#define UINT64_MAX 18446744073709551615UL
#define SIZE_MAX 18446744073709551615UL
#define SSIZE_MAX 9223372036854775807L
#define INTPTR_MAX 9223372036854775807L
#define UINTPTR_MAX 18446744073709551615UL
#define PATH_MAX 4096
#define INT8_C(c) c
#define INT16_C(c) c
#define INT32_C(c) c
#define INT64_C(c) c##L
#define UINT8_C(c) c
#define UINT16_C(c) c
#define UINT32_C(c) c##U
#define UINT64_C(c) c##UL
#define PRId8 "d"
#define PRId16 "d"
#define PRId32 "d"
#define PRId64 "ld"
#define PRIi8 "i"
#define PRIi16 "i"
#define PRIi32 "i"
#define PRIi64 "li"
#define PRIu8 "u"
#define PRIu16 "u"
#define PRIu32 "u"
#define PRIu64 "lu"
#define PRIx8 "x"
#define PRIx16 "x"
#define PRIx32 "x"
#define PRIx64 "lx"
#define PRIX8 "X"
#define PRIX16 "X"
#define PRIX32 "X"
#define PRIX64 "lX"
#define PRIo32 "o"
#define PRIo64 "lo"
#define PRIdPTR "ld"
#define PRIuPTR "lu"
#define PRIxPTR "lx"
#define PRIdMAX "ld"
#define PRIuMAX "lu"
#define PRIxMAX "lx"
#define SCNu8 "hhu"
#define SCNu16 "hu"
#define SCNu32 "u"
#define SCNu64 "lu"
#define SCNx64 "lx"
#define SCNd64 "ld"
#define SCNi64 "li"

/* ---- glib ---- */
typedef char gchar;
typedef short gshort;
typedef long glong;
typedef int gint;
typedef gint gboolean;
typedef unsigned char guchar;
typedef unsigned short gushort;
typedef unsigned long gulong;
typedef unsigned int guint;
typedef float gfloat;
typedef double gdouble;
typedef void *gpointer;
typedef const void *gconstpointer;
typedef signed char gint8;
typedef unsigned char guint8;
typedef short gint16;
typedef unsigned short guint16;
typedef int gint32;
typedef unsigned int guint32;
typedef long gint64;
typedef unsigned long guint64;
typedef unsigned long gsize;
typedef long gssize;
typedef long goffset;
typedef long gintptr;
typedef unsigned long guintptr;
typedef unsigned int gunichar;
typedef unsigned short gunichar2;
typedef unsigned int GQuark;
typedef int GPid;
typedef unsigned int GType;
typedef gchar **GStrv;
typedef struct _GArray GArray;
typedef struct _GByteArray GByteArray;
typedef struct _GPtrArray GPtrArray;
typedef struct _GBytes GBytes;
typedef struct _GHashTable GHashTable;
typedef struct _GHashTableIter GHashTableIter;
typedef struct _GList GList;
typedef struct _GSList GSList;
typedef struct _GQueue GQueue;
typedef struct _GString GString;
typedef struct _GError GError;
typedef struct _GTree GTree;
typedef struct _GTreeNode GTreeNode;
typedef struct _GMainContext GMainContext;
typedef struct _GMainLoop GMainLoop;
typedef struct _GSource GSource;
typedef struct _GSourceFuncs GSourceFuncs;
typedef struct _GPollFD GPollFD;
typedef struct _GIOChannel GIOChannel;
typedef struct _GThread GThread;
typedef struct _GThreadPool GThreadPool;
typedef struct _GAsyncQueue GAsyncQueue;
typedef struct _GMutex GMutex;
typedef struct _GRecMutex GRecMutex;
typedef struct _GRWLock GRWLock;
typedef struct _GCond GCond;
typedef struct _GPrivate GPrivate;
typedef struct _GOnce GOnce;
typedef struct _GTimer GTimer;
typedef struct _GRand GRand;
typedef struct _GKeyFile GKeyFile;
typedef struct _GOptionContext GOptionContext;
typedef struct _GOptionEntry GOptionEntry;
typedef struct _GOptionGroup GOptionGroup;
typedef struct _GChecksum GChecksum;
typedef struct _GHmac GHmac;
typedef struct _GRegex GRegex;
typedef struct _GMatchInfo GMatchInfo;
typedef struct _GDateTime GDateTime;
typedef struct _GTimeZone GTimeZone;
typedef struct _GVariant GVariant;
typedef struct _GSequence GSequence;
typedef struct _GSequenceIter GSequenceIter;
typedef struct _GData GData;
typedef struct _GDir GDir;
typedef struct _GMappedFile GMappedFile;
typedef struct _GStringChunk GStringChunk;
typedef struct _GScanner GScanner;
typedef struct _GMemVTable GMemVTable;
typedef struct _GTimeVal GTimeVal;
typedef struct _GUri GUri;
typedef struct _GTestSuite GTestSuite;
typedef struct _GTestCase GTestCase;
typedef struct _GCancellable GCancellable;
typedef struct _GObject GObject;
typedef struct _GTask GTask;
typedef struct _GAsyncResult GAsyncResult;
typedef struct _GSocket GSocket;
typedef struct _GSocketAddress GSocketAddress;
typedef struct _GInetSocketAddress GInetSocketAddress;
typedef struct _GFile GFile;
typedef struct _GInputStream GInputStream;
typedef struct _GOutputStream GOutputStream;
typedef struct _GDBusConnection GDBusConnection;
typedef struct _GDBusObjectManagerServer GDBusObjectManagerServer;
typedef struct _GDBusMethodInvocation GDBusMethodInvocation;
typedef struct _GSettings GSettings;
typedef int GIOCondition, GIOStatus, GIOFlags, GSeekType, GLogLevelFlags, GTraverseType,
    GFileTest, GNormalizeMode, GUnicodeType, GChecksumType, GSpawnFlags, GOptionArg,
    GOptionFlags, GRegexCompileFlags, GRegexMatchFlags, GTestTrapFlags, GTestSubprocessFlags,
    GUserDirectory, GFormatSizeFlags, GIOError, GSocketFamily, GSocketType, GSocketProtocol,
    GThreadError, GFileError, GOnceStatus, GDateMonth, GTimeType, GBusType, GUriFlags;
typedef gboolean (*GSourceFunc)(gpointer user_data);
typedef void (*GDestroyNotify)(gpointer data);
typedef void (*GFunc)(gpointer data, gpointer user_data);
typedef void (*GHFunc)(gpointer key, gpointer value, gpointer user_data);
typedef gboolean (*GHRFunc)(gpointer key, gpointer value, gpointer user_data);
typedef guint (*GHashFunc)(gconstpointer key);
typedef gboolean (*GEqualFunc)(gconstpointer a, gconstpointer b);
typedef gint (*GCompareFunc)(gconstpointer a, gconstpointer b);
typedef gint (*GCompareDataFunc)(gconstpointer a, gconstpointer b, gpointer user_data);
typedef gpointer (*GCopyFunc)(gconstpointer src, gpointer data);
typedef gpointer (*GThreadFunc)(gpointer data);
typedef gboolean (*GIOFunc)(GIOChannel *source, GIOCondition condition, gpointer data);
typedef gboolean (*GTraverseFunc)(gpointer key, gpointer value, gpointer data);
typedef void (*GLogFunc)(const gchar *d, GLogLevelFlags l, const gchar *m, gpointer u);
typedef void (*GPrintFunc)(const gchar *string);
typedef void (*GChildWatchFunc)(GPid pid, gint status, gpointer user_data);
typedef void (*GSpawnChildSetupFunc)(gpointer user_data);
typedef void (*GTestFunc)(void);
typedef void (*GTestDataFunc)(gconstpointer user_data);
typedef void (*GTestFixtureFunc)(gpointer fixture, gconstpointer user_data);
typedef void (*GCallback)(void);
typedef void (*GVoidFunc)(void);
typedef gboolean (*GOptionArgFunc)(const gchar *o, const gchar *v, gpointer d, GError **e);
typedef gint (*GPollFunc)(GPollFD *ufds, guint nfsd, gint timeout_);

#define TRUE 1
#define FALSE 0
#define G_OS_UNIX 1
#define GLIB_CHECK_VERSION(a, b, c) 1
#define GLIB_MAJOR_VERSION 2
#define GLIB_MINOR_VERSION 80
#define GLIB_MICRO_VERSION 0
#define GLIB_VERSION_2_56 25600
#define GLIB_VERSION_2_66 26600
#define G_BEGIN_DECLS
#define G_END_DECLS
#define G_INLINE_FUNC static inline
#define G_STMT_START do
#define G_STMT_END while (0)
#define G_STRINGIFY(x) #x
#define G_PASTE(a, b) a##b
#define G_N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))
#define G_STRUCT_OFFSET(t, m) offsetof(t, m)
#define G_LIKELY(x) (x)
#define G_UNLIKELY(x) (x)
#define G_STATIC_ASSERT(x)
#define G_STATIC_ASSERT_EXPR(x) 0
#define G_GNUC_PRINTF(a, b)
#define G_GNUC_SCANF(a, b)
#define G_GNUC_UNUSED
#define G_GNUC_NORETURN
#define G_NORETURN
#define G_GNUC_CONST
#define G_GNUC_PURE
#define G_GNUC_MALLOC
#define G_GNUC_NULL_TERMINATED
#define G_GNUC_WARN_UNUSED_RESULT
#define G_GNUC_DEPRECATED
#define G_GNUC_DEPRECATED_FOR(f)
#define G_GNUC_MAY_ALIAS
#define G_GNUC_FALLTHROUGH
#define G_GNUC_BEGIN_IGNORE_DEPRECATIONS
#define G_GNUC_END_IGNORE_DEPRECATIONS
#define G_GNUC_INTERNAL
#define G_GNUC_FORMAT(n)
#define G_GNUC_ALLOC_SIZE(x)
#define G_GNUC_ALLOC_SIZE2(x, y)
#define G_ANALYZER_NORETURN
#define G_ALWAYS_INLINE
#define G_NO_INLINE
#define GLIB_AVAILABLE_IN_ALL
#define GLIB_AVAILABLE_IN_2_68
#define GLIB_AVAILABLE_IN_2_70
#define G_DEFINE_AUTOPTR_CLEANUP_FUNC(t, f)
#define G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(t, f)
#define G_DEFINE_AUTO_CLEANUP_FREE_FUNC(t, f, n)
/* Cleanup-attributed locals: released when they leave scope. */
#define g_autofree auto
#define g_autoptr(t) auto t *
#define g_auto(t) auto t
#define g_autolist(t) auto GList *
#define g_autoslist(t) auto GSList *
#define g_autoqueue(t) auto GQueue *
#define G_MAXINT8 127
#define G_MAXUINT8 255
#define G_MAXINT16 32767
#define G_MAXUINT16 65535
#define G_MAXINT32 2147483647
#define G_MAXUINT32 4294967295U
#define G_MAXINT64 9223372036854775807L
#define G_MININT64 (-9223372036854775807L - 1)
#define G_MAXUINT64 18446744073709551615UL
#define G_MAXINT INT_MAX
#define G_MININT INT_MIN
#define G_MAXUINT UINT_MAX
#define G_MAXLONG LONG_MAX
#define G_MAXULONG ULONG_MAX
#define G_MAXSIZE SIZE_MAX
#define G_MAXSSIZE SSIZE_MAX
#define G_USEC_PER_SEC 1000000
#define G_SOURCE_REMOVE 0
#define G_SOURCE_CONTINUE 1
#define G_PRIORITY_DEFAULT 0
#define G_PRIORITY_HIGH (-100)
#define G_DIR_SEPARATOR '/'
#define G_DIR_SEPARATOR_S "/"
#define G_SEARCHPATH_SEPARATOR_S ":"
#define G_GSIZE_FORMAT "lu"
#define G_GSSIZE_FORMAT "li"
#define G_GUINT64_FORMAT "lu"
#define G_GINT64_FORMAT "li"
#define G_GUINT32_FORMAT "u"
#define G_GINT32_FORMAT "i"
#define G_GINT64_MODIFIER "l"
#define G_GSIZE_MODIFIER "l"
#define G_LOG_DOMAIN "lifecheck"
#define G_BYTE_ORDER 1234
#define G_LITTLE_ENDIAN 1234
#define G_BIG_ENDIAN 4321
#define GINT_TO_POINTER(i) ((gpointer)(glong)(i))
#define GUINT_TO_POINTER(u) ((gpointer)(gulong)(u))
#define GPOINTER_TO_INT(p) ((gint)(glong)(p))
#define GPOINTER_TO_UINT(p) ((guint)(gulong)(p))
#define GSIZE_TO_POINTER(s) ((gpointer)(gsize)(s))
#define GPOINTER_TO_SIZE(p) ((gsize)(p))
#define MIN(a, b) (((a) < (b)) ? (a) : (b))
#define MAX(a, b) (((a) > (b)) ? (a) : (b))
#define ABS(a) (((a) < 0) ? -(a) : (a))
#define CLAMP(x, l, h) (((x) > (h)) ? (h) : (((x) < (l)) ? (l) : (x)))
/* glib allocation macros take type names: turn them into calls of the
 * functions they wrap, so the model sees one allocator call. */
#define g_new(t, n) ((t *)g_malloc_n((n), sizeof(t)))
#define g_new0(t, n) ((t *)g_malloc0_n((n), sizeof(t)))
#define g_renew(t, m, n) ((t *)g_realloc_n((m), (n), sizeof(t)))
#define g_try_new(t, n) ((t *)g_try_malloc_n((n), sizeof(t)))
#define g_try_new0(t, n) ((t *)g_try_malloc0_n((n), sizeof(t)))
#define g_try_renew(t, m, n) ((t *)g_try_realloc_n((m), (n), sizeof(t)))
#define g_newa(t, n) ((t *)__builtin_alloca(sizeof(t) * (n)))
#define g_slice_new(t) ((t *)g_slice_alloc(sizeof(t)))
#define g_slice_new0(t) ((t *)g_slice_alloc0(sizeof(t)))
#define g_slice_free(t, m) g_slice_free1(sizeof(t), (m))
#define g_array_append_val(a, v) g_array_append_vals(a, &(v), 1)
#define g_array_prepend_val(a, v) g_array_prepend_vals(a, &(v), 1)
#define g_array_insert_val(a, i, v) g_array_insert_vals(a, i, &(v), 1)
#define g_array_index(a, t, i) (((t *)(void *)(a)->data)[(i)])
#define g_assert(x) ((void)(x))
#define g_assert_not_reached() g_assertion_message_unreachable()
#define g_assert_cmpint(a, op, b) ((void)((a) op (b)))
#define g_assert_cmpuint(a, op, b) ((void)((a) op (b)))
#define g_assert_cmphex(a, op, b) ((void)((a) op (b)))
#define g_assert_cmpfloat(a, op, b) ((void)((a) op (b)))
#define g_assert_cmpstr(a, op, b) ((void)(g_strcmp0((a), (b)) op 0))
#define g_assert_true(x) ((void)(x))
#define g_assert_false(x) ((void)(x))
#define g_assert_null(x) ((void)(x))
#define g_assert_nonnull(x) ((void)(x))
#define g_return_if_fail(x) do { if (!(x)) return; } while (0)
#define g_return_val_if_fail(x, v) do { if (!(x)) return (v); } while (0)
#define g_return_if_reached() return
#define g_return_val_if_reached(v) return (v)
#define g_warn_if_fail(x) ((void)(x))
#define g_warn_if_reached() ((void)0)
#define g_error(...) g_log_error(__VA_ARGS__)
#define g_critical(...) g_log_critical(__VA_ARGS__)
#define g_warning(...) g_log_warning(__VA_ARGS__)
#define g_message(...) g_log_message(__VA_ARGS__)
#define g_info(...) g_log_info(__VA_ARGS__)
#define g_debug(...) g_log_debug(__VA_ARGS__)
#define g_ptr_array_index(a, i) ((a)->pdata[i])
#define g_queue_push_tail_link g_queue_push_tail_link
#define g_steal_pointer(pp) g_steal_pointer(pp)
#define G_VA_COPY(a, b) ((void)0)
#define G_IO_IN 1
#define G_IO_OUT 4
#define G_IO_PRI 2
#define G_IO_ERR 8
#define G_IO_HUP 16
#define G_IO_NVAL 32

/* ---- linux ioctl numbers: the macros take type names ---- */
#define _IOC(d, t, n, s) 0
#define _IO(t, n) 0
#define _IOR(t, n, s) 0
#define _IOW(t, n, s) 0
#define _IOWR(t, n, s) 0
#define _IOR_BAD(t, n, s) 0
#define _IOW_BAD(t, n, s) 0

#endif
