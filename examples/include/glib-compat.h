/*
 * Stand-in for <glib.h> in the lifecheck examples tree
 *
 * QEMU's glib-compat.h includes the real <glib.h>.  The examples tree has
 * no glib, so this declares the few glib functions and macros that the
 * example devices use.  Macros are only defined when missing, so that a
 * tool's own glib prelude, included first, keeps its definitions.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_GLIB_COMPAT_H
#define QEMU_GLIB_COMPAT_H

void *g_malloc(size_t n_bytes);
void *g_malloc0(size_t n_bytes);
void *g_malloc_n(size_t n_blocks, size_t n_block_bytes);
void *g_malloc0_n(size_t n_blocks, size_t n_block_bytes);
void g_free(void *mem);
char *g_strdup(const char *str);
char *g_strdup_printf(const char *format, ...);

#ifndef g_new
#define g_new(t, n) ((t *)g_malloc_n((n), sizeof(t)))
#endif
#ifndef g_new0
#define g_new0(t, n) ((t *)g_malloc0_n((n), sizeof(t)))
#endif

#ifndef g_autofree
static inline void g_autoptr_cleanup_generic_gfree(void *p)
{
    void **pp = (void **)p;

    g_free(*pp);
}
#define g_autofree __attribute__((cleanup(g_autoptr_cleanup_generic_gfree)))
#endif

#ifndef G_DEFINE_AUTOPTR_CLEANUP_FUNC
#define G_DEFINE_AUTOPTR_CLEANUP_FUNC(TypeName, func)
#endif
#ifndef G_GNUC_UNUSED
#define G_GNUC_UNUSED __attribute__((unused))
#endif
#ifndef G_GNUC_PRINTF
#define G_GNUC_PRINTF(format_idx, arg_idx) \
    __attribute__((format(printf, format_idx, arg_idx)))
#endif
#ifndef G_N_ELEMENTS
#define G_N_ELEMENTS(arr) (sizeof(arr) / sizeof((arr)[0]))
#endif
#ifndef MIN
#define MIN(a, b) (((a) < (b)) ? (a) : (b))
#endif
#ifndef MAX
#define MAX(a, b) (((a) > (b)) ? (a) : (b))
#endif

#endif /* QEMU_GLIB_COMPAT_H */
