/* Lua 5.4 scripts and display filters (lua.h).
 *
 * A message is shown to Lua as a userdata that reads its fields from the decoded fp_msg on
 * demand (so a hook that looks at one field costs one lookup, not a table of the whole
 * message) and writes changes back into it; once the hook returns, the message is gone
 * and the userdata refuses to be used. Changed messages are encoded again by libproto with
 * their lengths and counts fixed up.
 *
 * Every call into Lua runs under an instruction budget (a count hook) and every state
 * under a memory limit (its allocator), so that a script that loops or allocates forever
 * is stopped, reported and switched off while the filesystem goes on. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "fuseproto/abi.h"
#include "fuseproto/le.h"
#include "fuseproto/optable.h"
#include "lua.h"

/* Instructions one hook call (or timer, or filter test) may run; beyond, it is stopped. */
#define BUDGET 20000000
#define BUDGET_STEP 10000
#define MSG_MT "fusewire.msg"
#define MAX_TIMERS 4096

/* What both kinds of state (scripts, filter) keep. */
struct st {
	lua_State *S;
	size_t mem, limit;
	long budget;           /* instructions left in this call */
	int runaway;           /* the call was stopped for its budget */
	int oom;               /* an allocation was refused during the call */
	struct fp_msg *cur;    /* the message being shown, or NULL */
	uint32_t gen;          /* bumped when cur goes away */
	int dirty;             /* cur was changed */
	const struct fp_conn *conn;
	struct fd_action *act; /* the verdict being made */
	const char *script;    /* the script running now */
	struct fp_msg scratch; /* answers and notifications being built (kept here, not on
				* the C stack, since a Lua error may leave at any point) */
};

struct script {
	char *name;
	int ref[3];   /* on_request, on_reply, on_notify (LUA_NOREF: none) */
	int off;      /* switched off after running away */
};

struct timer {
	uint64_t due, every;
	int fn, id;
	struct script *sc;
};

struct fd_lua {
	struct st st;
	struct fd_lua_host host;
	int fail_closed;
	struct script *sc;
	unsigned nsc;
	struct timer *timers;
	unsigned ntimers;
	int next_id;
};

struct fd_filter {
	struct st st;
	int fn;
	char err[300];
};

static uint64_t now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct st *st_of(lua_State *S)
{
	void *ud;
	lua_getallocf(S, &ud);
	return ud;
}

/* ------------------------------------------------------------------ limits */

static void *alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct st *st = ud;
	if (!ptr)
		osize = 0;
	if (nsize == 0) {
		free(ptr);
		st->mem -= osize;
		return NULL;
	}
	if (nsize > osize && st->mem + (nsize - osize) > st->limit) {
		st->oom = 1;
		return NULL;
	}
	void *p = realloc(ptr, nsize);
	if (p)
		st->mem = st->mem - osize + nsize;
	return p;
}

static void count_hook(lua_State *S, lua_Debug *ar)
{
	struct st *st = st_of(S);
	st->budget -= BUDGET_STEP;
	if (st->budget <= 0) {
		st->runaway = 1;
		lua_getinfo(S, "Sl", ar);
		luaL_error(S, "%s:%d: stopped after %d instructions (an endless loop?)", ar->short_src,
			   ar->currentline, BUDGET);
	}
}

static int traceback(lua_State *S)
{
	const char *msg = lua_tostring(S, 1);
	if (!msg)
		msg = luaL_typename(S, 1);
	luaL_traceback(S, S, msg, 1);
	return 1;
}

/* Call the function under the message handler with nargs arguments, one result, within
 * the budget. Returns 0, or -1 with the error (and traceback) on the stack. */
static int call(struct st *st, int nargs)
{
	lua_State *S = st->S;
	int base = lua_gettop(S) - nargs;
	lua_pushcfunction(S, traceback);
	lua_insert(S, base);
	st->budget = BUDGET;
	st->runaway = 0;
	st->oom = 0;
	int r = lua_pcall(S, nargs, 1, base);
	lua_remove(S, base);
	return r == LUA_OK ? 0 : -1;
}

static int st_open(struct st *st, size_t limit, int unsafe, char *err, size_t n)
{
	memset(st, 0, sizeof(*st));
	st->limit = limit;
	fp_msg_init(&st->scratch);
	st->S = lua_newstate(alloc, st);
	if (!st->S) {
		snprintf(err, n, "lua: out of memory");
		return -1;
	}
	lua_State *S = st->S;
	luaL_openlibs(S);
	lua_sethook(S, count_hook, LUA_MASKCOUNT, BUDGET_STEP);
	if (!unsafe) {
		/* no processes, no native code, no leaving without unmounting */
		const char *sandbox =
			"os.execute = nil; os.exit = nil; io.popen = nil; package.loadlib = nil\n"
			"package.cpath = ''\n"
			"package.searchers = { package.searchers[1], package.searchers[2] }\n";
		if (luaL_dostring(S, sandbox) != LUA_OK) {
			snprintf(err, n, "lua: %s", lua_tostring(S, -1));
			lua_close(S);
			st->S = NULL;
			return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ messages */

struct umsg {
	uint32_t gen;
	long idx; /* value index; -1: the message itself */
};

static struct fp_msg *msg_check(lua_State *S, int i, struct umsg **out)
{
	struct umsg *u = luaL_checkudata(S, i, MSG_MT);
	struct st *st = st_of(S);
	if (!st->cur || u->gen != st->gen)
		luaL_error(S, "this message is gone: keep the fields you need, not the message");
	if (out)
		*out = u;
	return st->cur;
}

static void push_msg(lua_State *S, long idx)
{
	struct st *st = st_of(S);
	struct umsg *u = lua_newuserdatauv(S, sizeof(*u), 0);
	u->gen = st->gen;
	u->idx = idx;
	luaL_setmetatable(S, MSG_MT);
}

static int is_container(const struct fp_val *v)
{
	return (v->vflags & FP_V_ELEM) || v->f->kind == FP_K_STRUCT || v->f->kind == FP_K_ARRAY ||
	       v->f->kind == FP_K_EXT;
}

static void push_val(lua_State *S, const struct fp_msg *m, long i)
{
	const struct fp_val *v = &m->v[i];
	if (is_container(v)) {
		push_msg(S, i);
		return;
	}
	switch (v->f->kind) {
	case FP_K_STR:
		lua_pushlstring(S, (const char *)v->p, v->len ? v->len - 1 : 0);
		return;
	case FP_K_BYTES:
	case FP_K_PAD8:
		lua_pushlstring(S, v->p ? (const char *)v->p : "", v->len);
		return;
	default:
		lua_pushinteger(S, (lua_Integer)v->u);
		return;
	}
}

static const char *op_name(const struct fp_msg *m, char *buf, size_t n)
{
	if (m->op)
		return m->op->name;
	snprintf(buf, n, "%s_%u", m->dir == FP_NOTIFY ? "NOTIFY" : "OPCODE", m->opcode);
	return buf;
}

/* The value index of field `key` of the message (header, then body) or of container idx. */
static long field_of(const struct fp_msg *m, long idx, const char *key)
{
	if (idx >= 0)
		return fp_msg_field(m, idx, key);
	long i = fp_msg_field(m, 0, key);
	if (i < 0 && m->body != UINT32_MAX)
		i = fp_msg_field(m, (long)m->body, key);
	return i;
}

static int m_answer(lua_State *S);
static int m_drop(lua_State *S);
static int m_delay(lua_State *S);

static int msg_index(lua_State *S)
{
	struct umsg *u;
	struct fp_msg *m = msg_check(S, 1, &u);
	if (u->idx >= 0 && m->v[u->idx].f->kind == FP_K_ARRAY && !(m->v[u->idx].vflags & FP_V_ELEM)) {
		lua_Integer k = luaL_checkinteger(S, 2);
		long c = k >= 1 && k <= (lua_Integer)m->v[u->idx].u ?
				 fp_msg_child(m, u->idx, (unsigned)(k - 1)) : -1;
		if (c < 0)
			lua_pushnil(S);
		else
			push_val(S, m, c);
		return 1;
	}
	const char *key = luaL_checkstring(S, 2);
	if (u->idx < 0) {
		char nb[32];
		if (!strcmp(key, "op")) {
			lua_pushstring(S, op_name(m, nb, sizeof(nb)));
			return 1;
		}
		if (!strcmp(key, "dir")) {
			lua_pushstring(S, m->dir == FP_REQUEST ? "request" : m->dir == FP_REPLY ? "reply" : "notify");
			return 1;
		}
		if (!strcmp(key, "path")) {
			if (m->path_known)
				lua_pushstring(S, m->path);
			else
				lua_pushnil(S);
			return 1;
		}
		if (!strcmp(key, "latency_us")) {
			if (m->dir == FP_REPLY && m->latency_ns >= 0)
				lua_pushinteger(S, m->latency_ns / 1000);
			else
				lua_pushnil(S);
			return 1;
		}
		if (!strcmp(key, "status")) {
			lua_pushstring(S, m->status == FP_OK ? "ok" : m->status == FP_TRUNCATED ? "truncated" : "invalid");
			return 1;
		}
		static const struct {
			const char *name;
			lua_CFunction fn;
		} methods[] = {{"answer", m_answer}, {"drop", m_drop}, {"delay", m_delay}};
		for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
			if (!strcmp(key, methods[i].name)) {
				lua_pushcfunction(S, methods[i].fn);
				return 1;
			}
	}
	long i = field_of(m, u->idx, key);
	if (i < 0)
		lua_pushnil(S);
	else
		push_val(S, m, i);
	return 1;
}

static int msg_newindex(lua_State *S)
{
	struct umsg *u;
	struct fp_msg *m = msg_check(S, 1, &u);
	long i;
	if (lua_type(S, 2) == LUA_TNUMBER) {
		lua_Integer k = luaL_checkinteger(S, 2);
		i = u->idx >= 0 && k >= 1 && k <= (lua_Integer)m->v[u->idx].u ?
			    fp_msg_child(m, u->idx, (unsigned)(k - 1)) : -1;
	} else {
		i = field_of(m, u->idx, luaL_checkstring(S, 2));
	}
	if (i < 0)
		return luaL_error(S, "no field '%s' here", lua_tostring(S, 2));
	const struct fp_val *v = &m->v[i];
	if (is_container(v))
		return luaL_error(S, "'%s' is a struct or array: set its fields", v->f->name);
	int r;
	if (fp_kind_is_int(v->f->kind)) {
		r = fp_msg_set_u64(m, i, (uint64_t)luaL_checkinteger(S, 3));
	} else {
		size_t n;
		const char *s = luaL_checklstring(S, 3, &n);
		r = fp_msg_set_bytes(m, i, s, n);
	}
	if (r < 0)
		return luaL_error(S, "cannot set '%s' to that (a NUL inside a name?)", v->f->name);
	st_of(S)->dirty = 1;
	return 0;
}

static int msg_len(lua_State *S)
{
	struct umsg *u;
	struct fp_msg *m = msg_check(S, 1, &u);
	if (u->idx >= 0 && m->v[u->idx].f->kind == FP_K_ARRAY && !(m->v[u->idx].vflags & FP_V_ELEM))
		lua_pushinteger(S, (lua_Integer)m->v[u->idx].u);
	else
		lua_pushinteger(S, u->idx < 0 ? (lua_Integer)m->buflen : (lua_Integer)m->v[u->idx].len);
	return 1;
}

static int msg_tostring(lua_State *S)
{
	struct umsg *u;
	struct fp_msg *m = msg_check(S, 1, &u);
	char nb[32];
	if (u->idx < 0)
		lua_pushfstring(S, "%s #%I", op_name(m, nb, sizeof(nb)), (lua_Integer)m->h.unique);
	else
		lua_pushfstring(S, "%s (%s)", m->v[u->idx].f->name, op_name(m, nb, sizeof(nb)));
	return 1;
}

static void msg_metatable(lua_State *S)
{
	luaL_newmetatable(S, MSG_MT);
	lua_pushcfunction(S, msg_index);
	lua_setfield(S, -2, "__index");
	lua_pushcfunction(S, msg_newindex);
	lua_setfield(S, -2, "__newindex");
	lua_pushcfunction(S, msg_len);
	lua_setfield(S, -2, "__len");
	lua_pushcfunction(S, msg_tostring);
	lua_setfield(S, -2, "__tostring");
	lua_pop(S, 1);
}

/* An errno from a number (5, -5) or a name ("EIO"). */
static int errno_arg(lua_State *S, int i)
{
	if (lua_type(S, i) == LUA_TNUMBER) {
		lua_Integer e = luaL_checkinteger(S, i);
		if (e < 0)
			e = -e;
		if (e <= 0 || e > 4095)
			luaL_argerror(S, i, "an errno from 1 to 4095");
		return (int)e;
	}
	const char *name = luaL_checkstring(S, i);
	for (const struct fp_sym *s = fp_sym_errno; s->name; s++)
		if (!strcmp(s->name, name))
			return (int)s->v;
	luaL_argerror(S, i, "an errno name such as \"EIO\"");
	return 0;
}

/* Set fields of container `base` of m from the table at stack index t. */
static void fill(lua_State *S, struct fp_msg *m, long base, int t, const struct fp_conn *conn)
{
	t = lua_absindex(S, t);
	lua_pushnil(S);
	while (lua_next(S, t)) {
		const char *key = lua_type(S, -2) == LUA_TSTRING ? lua_tostring(S, -2) : NULL;
		long i = key ? fp_msg_field(m, base, key) : -1;
		if (i < 0 && key && base == (long)m->body)
			i = fp_msg_field(m, 0, key);
		if (i < 0)
			luaL_error(S, "no field '%s' in this reply", key ? key : "?");
		const struct fp_val *v = &m->v[i];
		if (v->f->kind == FP_K_ARRAY) {
			if (!lua_istable(S, -1))
				luaL_error(S, "'%s' takes a list of tables", key);
			lua_Integer n = (lua_Integer)lua_rawlen(S, -1);
			for (lua_Integer k = 1; k <= n; k++) {
				long e = fp_msg_append(m, i, conn);
				if (e < 0)
					luaL_error(S, "cannot add to '%s'", key);
				lua_rawgeti(S, -1, k);
				fill(S, m, e, -1, conn);
				lua_pop(S, 1);
			}
		} else if (is_container(v)) {
			if (!lua_istable(S, -1))
				luaL_error(S, "'%s' takes a table", key);
			fill(S, m, i, -1, conn);
		} else if (fp_kind_is_int(v->f->kind)) {
			fp_msg_set_u64(m, i, (uint64_t)luaL_checkinteger(S, -1));
		} else {
			size_t n;
			const char *s = luaL_checklstring(S, -1, &n);
			if (fp_msg_set_bytes(m, i, s, n) < 0)
				luaL_error(S, "cannot set '%s'", key);
		}
		lua_pop(S, 1);
	}
}

/* Encode m into a new buffer. */
static int encode(struct fp_msg *m, uint8_t **buf, size_t *len)
{
	long n = fp_encode(m, NULL, 0, FP_ENC_FIXUP);
	if (n < 0)
		return -1;
	uint8_t *b = malloc((size_t)n);
	if (!b || fp_encode(m, b, (size_t)n, FP_ENC_FIXUP) != n) {
		free(b);
		return -1;
	}
	*buf = b;
	*len = (size_t)n;
	return 0;
}

/* A header-only reply to `unique` with error -err into a new buffer. */
static int error_reply(uint64_t unique, int err, uint8_t **buf, size_t *len)
{
	uint8_t *b = malloc(16);
	if (!b)
		return -1;
	fp_store_le(b, 4, 16);
	fp_store_le(b + 4, 4, (uint32_t)(int32_t)-err);
	fp_store_le(b + 8, 8, unique);
	*buf = b;
	*len = 16;
	return 0;
}

/* req:answer(errno) or req:answer{field = value, ...}: reply in the daemon's place. */
static int m_answer(lua_State *S)
{
	struct fp_msg *m = msg_check(S, 1, NULL);
	struct st *st = st_of(S);
	if (m->dir != FP_REQUEST)
		return luaL_error(S, "answer() is for requests");
	if (m->op && (m->op->flags & FP_OP_NOREPLY))
		return luaL_error(S, "%s takes no reply", m->op->name);
	uint8_t *buf;
	size_t len;
	if (!lua_istable(S, 2)) {
		if (error_reply(m->h.unique, errno_arg(S, 2), &buf, &len) < 0)
			return luaL_error(S, "out of memory");
	} else {
		struct fp_reqinfo ri = {m->opcode, 0};
		if (m->op && m->op->arg && m->body != UINT32_MAX) {
			long a = fp_msg_field(m, (long)m->body, m->op->arg);
			if (a >= 0)
				ri.arg = m->v[a].u;
		}
		struct fp_msg *r = &st->scratch;
		if (fp_msg_build(r, FP_REPLY, m->opcode, st->conn, &ri) < 0)
			return luaL_error(S, "cannot build a reply to %s", m->op ? m->op->name : "this");
		fp_msg_set_u64(r, fp_msg_field(r, 0, "unique"), m->h.unique);
		if (r->body != UINT32_MAX)
			fill(S, r, (long)r->body, 2, st->conn);
		if (encode(r, &buf, &len) < 0)
			return luaL_error(S, "cannot encode that reply");
	}
	free(st->act->buf);
	st->act->v = FD_ANSWER;
	st->act->buf = buf;
	st->act->len = len;
	return 0;
}

static int m_drop(lua_State *S)
{
	msg_check(S, 1, NULL);
	struct st *st = st_of(S);
	free(st->act->buf);
	st->act->buf = NULL;
	st->act->v = FD_DROP;
	return 0;
}

static int m_delay(lua_State *S)
{
	msg_check(S, 1, NULL);
	lua_Number ms = luaL_checknumber(S, 2);
	if (!(ms >= 0 && ms <= 3600e3))
		return luaL_argerror(S, 2, "milliseconds from 0 to 3600000");
	st_of(S)->act->delay_ns = (uint64_t)(ms * 1e6);
	return 0;
}

/* ------------------------------------------------------------------ the fuse table */

static struct fd_lua *lua_of(lua_State *S)
{
	return (struct fd_lua *)st_of(S);
}

static int f_log(lua_State *S)
{
	struct fd_lua *L = lua_of(S);
	int n = lua_gettop(S);
	luaL_Buffer b;
	luaL_buffinit(S, &b);
	for (int i = 1; i <= n; i++) {
		if (i > 1)
			luaL_addchar(&b, ' ');
		luaL_tolstring(S, i, NULL);
		luaL_addvalue(&b);
	}
	luaL_pushresult(&b);
	L->host.log(L->host.ctx, L->st.script ? L->st.script : "lua", lua_tostring(S, -1));
	return 0;
}

static int f_now(lua_State *S)
{
	lua_pushnumber(S, (lua_Number)now_mono() / 1e6);
	return 1;
}

static int add_timer(lua_State *S, int every)
{
	struct fd_lua *L = lua_of(S);
	lua_Number ms = luaL_checknumber(S, 1);
	luaL_checktype(S, 2, LUA_TFUNCTION);
	if (!(ms >= 0 && ms <= 86400e3) || (every && ms < 1))
		return luaL_argerror(S, 1, every ? "milliseconds from 1 to 86400000" :
						   "milliseconds from 0 to 86400000");
	if (L->ntimers >= MAX_TIMERS)
		return luaL_error(S, "too many timers (%d)", MAX_TIMERS);
	struct timer *t = realloc(L->timers, (L->ntimers + 1) * sizeof(*t));
	if (!t)
		return luaL_error(S, "out of memory");
	L->timers = t;
	struct script *sc = NULL;
	for (unsigned i = 0; i < L->nsc; i++)
		if (L->st.script == L->sc[i].name)
			sc = &L->sc[i];
	lua_pushvalue(S, 2);
	uint64_t ns = (uint64_t)(ms * 1e6);
	t[L->ntimers] = (struct timer){now_mono() + ns, every ? ns : 0, luaL_ref(S, LUA_REGISTRYINDEX),
				       ++L->next_id, sc};
	L->ntimers++;
	lua_pushinteger(S, L->next_id);
	return 1;
}

static int f_after(lua_State *S)
{
	return add_timer(S, 0);
}

static int f_every(lua_State *S)
{
	return add_timer(S, 1);
}

static void drop_timer(struct fd_lua *L, unsigned i)
{
	luaL_unref(L->st.S, LUA_REGISTRYINDEX, L->timers[i].fn);
	L->timers[i] = L->timers[--L->ntimers];
}

static int f_cancel(lua_State *S)
{
	struct fd_lua *L = lua_of(S);
	lua_Integer id = luaL_checkinteger(S, 1);
	for (unsigned i = 0; i < L->ntimers; i++)
		if (L->timers[i].id == id) {
			drop_timer(L, i);
			break;
		}
	return 0;
}

/* fuse.notify("INVAL_INODE", {ino = 5, off = 0, len = -1}) */
static int f_notify(lua_State *S)
{
	struct fd_lua *L = lua_of(S);
	const char *kind = luaL_checkstring(S, 1);
	luaL_checktype(S, 2, LUA_TTABLE);
	const struct fp_op *op = NULL;
	for (unsigned i = 0; (op = fp_op_at(i)); i++)
		if ((op->flags & FP_OP_NOTIFY) &&
		    (!strcmp(op->name, kind) || (!strncmp(op->name, "NOTIFY_", 7) && !strcmp(op->name + 7, kind))))
			break;
	if (!op)
		return luaL_argerror(S, 1, "a notification: INVAL_INODE, INVAL_ENTRY, DELETE, STORE, ...");
	struct fp_msg *m = &L->st.scratch;
	uint8_t *buf = NULL;
	size_t len = 0;
	if (fp_msg_build(m, FP_NOTIFY, op->code, L->st.conn, NULL) < 0)
		return luaL_error(S, "cannot build that notification");
	if (m->body != UINT32_MAX)
		fill(S, m, (long)m->body, 2, L->st.conn);
	if (encode(m, &buf, &len) < 0)
		return luaL_error(S, "cannot encode that notification");
	int e = L->host.notify(L->host.ctx, L->st.script ? L->st.script : "lua", buf, len);
	free(buf);
	lua_pushboolean(S, e == 0);
	if (e)
		lua_pushstring(S, strerror(e));
	return e ? 2 : 1;
}

static void fuse_table(lua_State *S)
{
	static const luaL_Reg fns[] = {
		{"log", f_log},       {"now", f_now},       {"after", f_after},
		{"every", f_every},   {"cancel", f_cancel}, {"notify", f_notify},
		{NULL, NULL},
	};
	luaL_newlib(S, fns);
	lua_newtable(S);
	for (const struct fp_sym *s = fp_sym_errno; s->name; s++) {
		lua_pushinteger(S, (lua_Integer)s->v);
		lua_setfield(S, -2, s->name);
	}
	lua_setfield(S, -2, "errno");
	lua_setglobal(S, "fuse");
	/* What the ready scripts share: does a message match the usual arguments? */
	static const char match[] =
		"local ops_cache = {}\n"
		"function fuse.fullpath(m)\n"
		"  local p = m.path\n"
		"  if p and m.dir == 'request' and m.name then\n"
		"    p = (p == '/' and '' or p) .. '/' .. m.name\n"
		"  end\n"
		"  return p\n"
		"end\n"
		"function fuse.match(m, a)\n"
		"  if a.op then\n"
		"    local set = ops_cache[a.op]\n"
		"    if not set then\n"
		"      set = {}\n"
		"      for op in a.op:gmatch('[^,]+') do set[op:upper()] = true end\n"
		"      ops_cache[a.op] = set\n"
		"    end\n"
		"    if not set[m.op] then return false end\n"
		"  end\n"
		"  if a.path then\n"
		"    local p = fuse.fullpath(m)\n"
		"    if not p or not p:match(a.path) then return false end\n"
		"  end\n"
		"  if a.p and math.random() >= tonumber(a.p) then return false end\n"
		"  return true\n"
		"end\n"
		"function fuse.size(s)\n"
		"  local n, unit = tostring(s):match('^(%d+)([kKmMgG]?)$')\n"
		"  if not n then error('not a size: ' .. tostring(s), 2) end\n"
		"  local mult = {[''] = 1, k = 1024, m = 1048576, g = 1073741824}\n"
		"  return tonumber(n) * mult[unit:lower()]\n"
		"end\n";
	if (luaL_dostring(S, match) != LUA_OK)
		lua_pop(S, 1); /* cannot fail but for memory; the scripts will say what is missing */
}

/* ------------------------------------------------------------------ scripts */

static const char *const hook_names[3] = {"on_request", "on_reply", "on_notify"};

/* Where a script named without a directory is looked for when it is not in the current
 * directory: FUSEWIRE_LUA_PATH, then ../share/fusewire/lua next to the fusedump program
 * (the installed scripts, or the build tree's copy). Returns a malloc'd path or NULL. */
static char *find_script(const char *file)
{
	if (strchr(file, '/') || access(file, F_OK) == 0)
		return strdup(file);
	const char *env = getenv("FUSEWIRE_LUA_PATH");
	char dir[PATH_MAX];
	if (env && *env) {
		snprintf(dir, sizeof(dir), "%s", env);
	} else {
		ssize_t k = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
		if (k <= 0)
			return strdup(file);
		dir[k] = 0;
		char *slash = strrchr(dir, '/');
		if (slash)
			*slash = 0;
		size_t used = strlen(dir);
		snprintf(dir + used, sizeof(dir) - used, "/../share/fusewire/lua");
	}
	char *p = NULL;
	if (asprintf(&p, "%s/%s", dir, file) < 0)
		return NULL;
	if (access(p, F_OK) != 0) {
		free(p);
		return strdup(file); /* the error names what the user wrote */
	}
	return p;
}

/* Load one script from its spec, "FILE [KEY=VALUE ...]": the pairs become the script's
 * `args` table. Each script gets its own globals, over the shared ones. */
static int load(struct fd_lua *L, struct script *sc, const char *spec, char *err, size_t n)
{
	lua_State *S = L->st.S;
	char *copy = strdup(spec);
	if (!copy) {
		snprintf(err, n, "lua: out of memory");
		return -1;
	}
	char *save = NULL;
	char *file = strtok_r(copy, " \t", &save);
	if (!file) {
		snprintf(err, n, "--lua: no script named in '%s'", spec);
		free(copy);
		return -1;
	}
	sc->name = find_script(file);
	if (!sc->name) {
		snprintf(err, n, "lua: out of memory");
		free(copy);
		return -1;
	}
	L->st.script = sc->name;
	if (luaL_loadfile(S, sc->name) != LUA_OK) {
		snprintf(err, n, "%s", lua_tostring(S, -1));
		lua_pop(S, 1);
		free(copy);
		return -1;
	}
	lua_newtable(S); /* the script's globals */
	lua_newtable(S);
	lua_pushglobaltable(S);
	lua_setfield(S, -2, "__index");
	lua_setmetatable(S, -2);
	lua_newtable(S); /* args */
	for (char *kv; (kv = strtok_r(NULL, " \t", &save));) {
		char *eq = strchr(kv, '=');
		if (!eq || eq == kv) {
			snprintf(err, n, "--lua '%s': '%s' is not KEY=VALUE", spec, kv);
			lua_pop(S, 3);
			free(copy);
			return -1;
		}
		*eq = 0;
		lua_pushstring(S, eq + 1);
		lua_setfield(S, -2, kv);
	}
	free(copy);
	lua_setfield(S, -2, "args");
	lua_pushvalue(S, -1);
	lua_insert(S, -3); /* env, fn, env */
	lua_setupvalue(S, -2, 1);
	if (call(&L->st, 0) < 0) {
		snprintf(err, n, "%s: %s", sc->name, lua_tostring(S, -1));
		lua_pop(S, 2);
		return -1;
	}
	lua_pop(S, 1);
	for (int h = 0; h < 3; h++) {
		lua_getfield(S, -1, hook_names[h]);
		if (lua_isfunction(S, -1))
			sc->ref[h] = luaL_ref(S, LUA_REGISTRYINDEX);
		else
			lua_pop(S, 1);
	}
	lua_pop(S, 1);
	return 0;
}

/* Report the error on the stack for script sc and pop it; a script that ran away is
 * switched off, since it would only do it again. */
static void failed(struct fd_lua *L, struct script *sc, const char *when)
{
	lua_State *S = L->st.S;
	const char *e = lua_tostring(S, -1);
	int oom = L->st.oom;
	char what[1200];
	snprintf(what, sizeof(what), "%s: %s%s", when, e ? e : "error",
		 L->st.runaway || oom ? " (script switched off)" : "");
	lua_pop(S, 1);
	if (sc && (L->st.runaway || oom))
		sc->off = 1;
	L->host.error(L->host.ctx, sc ? sc->name : "lua", what);
	lua_gc(S, LUA_GCCOLLECT);
}

static void stderr_log(void *ctx, const char *script, const char *text)
{
	(void)ctx;
	fprintf(stderr, "fusedump: %s: %s\n", script, text);
}

static int no_notify(void *ctx, const char *script, const uint8_t *buf, size_t len)
{
	(void)ctx, (void)script, (void)buf, (void)len;
	return ENOTCONN;
}

void fd_lua_set_host(struct fd_lua *L, const struct fd_lua_host *host)
{
	L->host = *host;
}

struct fd_lua *fd_lua_new(const struct fd_lua_opts *o, char *err, size_t n)
{
	struct fd_lua *L = calloc(1, sizeof(*L));
	if (!L || !(L->sc = calloc(o->n ? o->n : 1, sizeof(*L->sc)))) {
		snprintf(err, n, "lua: out of memory");
		free(L);
		return NULL;
	}
	L->host = (struct fd_lua_host){NULL, stderr_log, no_notify, stderr_log};
	L->fail_closed = o->fail_closed;
	if (st_open(&L->st, o->mem_limit, o->unsafe, err, n) < 0) {
		free(L->sc);
		free(L);
		return NULL;
	}
	lua_State *S = L->st.S;
	msg_metatable(S);
	fuse_table(S);
	lua_getglobal(S, "math");
	lua_getfield(S, -1, "randomseed");
	lua_pushinteger(S, (lua_Integer)o->seed);
	lua_call(S, 1, 0);
	lua_pop(S, 1);
	for (unsigned i = 0; i < o->n; i++) {
		struct script *sc = &L->sc[L->nsc++];
		for (int h = 0; h < 3; h++)
			sc->ref[h] = LUA_NOREF;
		if (load(L, sc, o->scripts[i], err, n) < 0) {
			fd_lua_free(L);
			return NULL;
		}
	}
	L->st.script = NULL;
	return L;
}

void fd_lua_free(struct fd_lua *L)
{
	if (!L)
		return;
	if (L->st.S)
		lua_close(L->st.S);
	fp_msg_free(&L->st.scratch);
	for (unsigned i = 0; i < L->nsc; i++)
		free(L->sc[i].name);
	free(L->sc);
	free(L->timers);
	free(L);
}

static int hook_of(enum fp_dir dir)
{
	return dir == FP_REQUEST ? 0 : dir == FP_REPLY ? 1 : 2;
}

int fd_lua_wants(const struct fd_lua *L, enum fp_dir dir)
{
	for (unsigned i = 0; L && i < L->nsc; i++)
		if (L->sc[i].ref[hook_of(dir)] != LUA_NOREF && !L->sc[i].off)
			return 1;
	return 0;
}

/* Encode the changed message, as the hook left it, into a->buf. A reply whose error was
 * set loses its body (the kernel takes errors with a header only). */
static void changed(struct fd_lua *L, struct fp_msg *m, struct fd_action *a)
{
	long e = m->dir == FP_REPLY ? fp_msg_field(m, 0, "error") : -1;
	int32_t error = e >= 0 ? (int32_t)m->v[e].u : 0;
	if (error != 0) {
		if (error_reply(m->h.unique, error < 0 ? -error : error, &a->buf, &a->len) == 0)
			a->v = FD_MODIFIED;
		return;
	}
	if (encode(m, &a->buf, &a->len) == 0)
		a->v = FD_MODIFIED;
	else
		L->host.error(L->host.ctx, a->script ? a->script : "lua",
			      "the changed message cannot be encoded: forwarded as it was");
}

void fd_lua_hook(struct fd_lua *L, struct fp_msg *m, const struct fp_conn *conn,
		 struct fd_action *a)
{
	memset(a, 0, sizeof(*a));
	int h = hook_of(m->dir);
	lua_State *S = L->st.S;
	L->st.cur = m;
	L->st.conn = conn;
	L->st.act = a;
	L->st.dirty = 0;
	for (unsigned i = 0; i < L->nsc && a->v != FD_ANSWER && a->v != FD_DROP; i++) {
		struct script *sc = &L->sc[i];
		if (sc->ref[h] == LUA_NOREF || sc->off)
			continue;
		L->st.script = sc->name;
		lua_rawgeti(S, LUA_REGISTRYINDEX, sc->ref[h]);
		push_msg(S, -1);
		int dirty = L->st.dirty;
		enum fd_verdict v = a->v;
		uint64_t delay = a->delay_ns;
		if (call(&L->st, 1) < 0) {
			char nb[32];
			char when[80];
			snprintf(when, sizeof(when), "%s on %s #%" PRIu64, hook_names[h],
				 op_name(m, nb, sizeof(nb)), m->h.unique);
			failed(L, sc, when);
			if (L->fail_closed && m->dir == FP_REQUEST &&
			    !(m->op && (m->op->flags & FP_OP_NOREPLY))) {
				free(a->buf);
				if (error_reply(m->h.unique, EIO, &a->buf, &a->len) == 0)
					a->v = FD_ANSWER;
				a->script = sc->name;
			}
			continue;
		}
		lua_pop(S, 1);
		if (L->st.dirty != dirty || a->v != v || a->delay_ns != delay)
			a->script = sc->name;
	}
	if (L->st.dirty && (a->v == FD_PASS))
		changed(L, m, a);
	L->st.cur = NULL;
	L->st.gen++;
	L->st.script = NULL;
	L->st.act = NULL;
}

uint64_t fd_lua_next_timer(const struct fd_lua *L)
{
	uint64_t t = 0;
	for (unsigned i = 0; L && i < L->ntimers; i++)
		if (!t || L->timers[i].due < t)
			t = L->timers[i].due;
	return t;
}

void fd_lua_run_timers(struct fd_lua *L, uint64_t now)
{
	lua_State *S = L->st.S;
	struct fd_action none;
	for (unsigned i = 0; i < L->ntimers;) {
		struct timer *t = &L->timers[i];
		if (t->due > now || (t->sc && t->sc->off)) {
			if (t->sc && t->sc->off)
				drop_timer(L, i);
			else
				i++;
			continue;
		}
		struct script *sc = t->sc;
		L->st.script = sc ? sc->name : NULL;
		memset(&none, 0, sizeof(none));
		L->st.act = &none;
		lua_rawgeti(S, LUA_REGISTRYINDEX, t->fn);
		int id = t->id;
		if (t->every) {
			t->due = now + t->every;
			i++;
		} else {
			drop_timer(L, i); /* its function is on the stack until it has run */
		}
		if (call(&L->st, 0) < 0) {
			char when[64];
			snprintf(when, sizeof(when), "timer %d", id);
			failed(L, sc, when);
		} else {
			lua_pop(S, 1);
		}
		free(none.buf);
	}
	L->st.script = NULL;
	L->st.act = NULL;
}

/* ------------------------------------------------------------------ filters */

/* The filter's environment: a message field by that name, else one of the few globals an
 * expression needs (so that a field a message lacks, such as a request's `error`, is nil
 * rather than Lua's function of that name). */
static int filter_env_index(lua_State *S)
{
	struct st *st = st_of(S);
	if (st->cur && lua_type(S, 2) == LUA_TSTRING) {
		push_msg(S, -1);
		lua_pushvalue(S, 2);
		lua_gettable(S, -2);
		if (!lua_isnil(S, -1))
			return 1;
		lua_pop(S, 2);
	}
	static const char *const globals[] = {"string", "math", "table", "utf8", "tonumber",
					      "tostring", "type", "select", NULL};
	const char *k = lua_tostring(S, 2);
	for (int i = 0; k && globals[i]; i++)
		if (!strcmp(k, globals[i])) {
			lua_getglobal(S, k);
			return 1;
		}
	lua_pushnil(S);
	return 1;
}

struct fd_filter *fd_filter_new(const char *expr, char *err, size_t n)
{
	struct fd_filter *f = calloc(1, sizeof(*f));
	if (!f) {
		snprintf(err, n, "-Y: out of memory");
		return NULL;
	}
	if (st_open(&f->st, 64u << 20, 0, err, n) < 0) {
		free(f);
		return NULL;
	}
	lua_State *S = f->st.S;
	msg_metatable(S);
	size_t len = strlen(expr) + 16;
	char *code = malloc(len);
	if (!code) {
		snprintf(err, n, "-Y: out of memory");
		fd_filter_free(f);
		return NULL;
	}
	snprintf(code, len, "return (%s)", expr);
	int r = luaL_loadbuffer(S, code, strlen(code), "-Y");
	free(code);
	if (r != LUA_OK) {
		snprintf(err, n, "-Y: %s", lua_tostring(S, -1));
		fd_filter_free(f);
		return NULL;
	}
	lua_newtable(S);
	lua_newtable(S);
	lua_pushcfunction(S, filter_env_index);
	lua_setfield(S, -2, "__index");
	lua_setmetatable(S, -2);
	lua_setupvalue(S, -2, 1);
	f->fn = luaL_ref(S, LUA_REGISTRYINDEX);
	return f;
}

void fd_filter_free(struct fd_filter *f)
{
	if (!f)
		return;
	if (f->st.S)
		lua_close(f->st.S);
	fp_msg_free(&f->st.scratch);
	free(f);
}

int fd_filter_match(struct fd_filter *f, struct fp_msg *m)
{
	lua_State *S = f->st.S;
	f->st.cur = m;
	lua_rawgeti(S, LUA_REGISTRYINDEX, f->fn);
	int ok = call(&f->st, 0) == 0;
	int match = ok && lua_toboolean(S, -1);
	if (!ok && !f->err[0])
		snprintf(f->err, sizeof(f->err), "%s", lua_tostring(S, -1));
	lua_pop(S, 1);
	f->st.cur = NULL;
	f->st.gen++;
	if (!ok)
		lua_gc(S, LUA_GCCOLLECT);
	return match;
}

const char *fd_filter_error(const struct fd_filter *f)
{
	return f->err;
}
