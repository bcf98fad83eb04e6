// SPDX-License-Identifier: GPL-2.0
/*
 * rpmsgdev: the hosted face of the rpmsg character devices (rpmsgdev.h).
 * The semantics are the core's (<rpmsg/rpmsg_char.h>); here is what the
 * kernel's VFS and sysfs do for the Linux port: descriptors and their
 * open-file references, O_NONBLOCK, poll() over several descriptors, the
 * /dev and /sys paths of the nodes.
 *
 * Open files: a descriptor holds a reference to an open file; every call
 * on it holds one more while it runs, and the node's close() runs when the
 * last goes, as the kernel's release(): close() while another thread
 * blocks in read() returns at once, and the reader goes on until the node
 * wakes it (a message, or the endpoint gone).
 */
#include <keel/atomic.h>
#include <keel/log.h>
#include <keel/spinlock.h>
#include <keel/string.h>
#include <keel/wait.h>
#include <rpmsg/rpmsg_char.h>

#include "rpmsgdev.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <unistd.h>

using keel::Guard;
using keel::RefPtr;
using rpmsg::RpmsgCharKind;
using rpmsg::RpmsgCharNode;

namespace {

constexpr int MAX_FILES = 1024;
constexpr size_t ATTR_MAX = 256;

const char DEV[] = "/dev/";
const char CLASS[] = "/sys/class/rpmsg";
const char BUS[] = "/sys/bus/rpmsg/devices";

/* An open file: a node's, or one attribute's text (read as sysfs gives it). */
struct File : keel::NonMovable {
	keel::Atomic<u32> refs{ 1 };
	RefPtr<RpmsgCharNode> node;
	bool is_attr = false;
	bool opened = false; /* node->open() succeeded: close() is owed */
	keel::Atomic<int> flags{ 0 };
	char text[ATTR_MAX] = {};
	size_t len = 0;
	keel::Atomic<size_t> off{ 0 };
};

/* A directory listing: the names, taken when opened. */
struct Dir : keel::NonMovable {
	Dir *next = nullptr;
	char (*names)[64] = nullptr;
	u32 count = 0, pos = 0;
	struct dirent ent = {};
};

struct State {
	keel::Mutex lock{ "rpmsgdev_files", KEEL_LOCK_KEY() };
	File *files[MAX_FILES] GUARDED_BY(lock) = {};
	Dir *dirs GUARDED_BY(lock) = nullptr;
	u32 inits GUARDED_BY(lock) = 0;
};

/* Set up by the first rpmsgdev_init(), kept afterwards (a process-wide table). */
constinit keel::Atomic<State *> s_state{ nullptr };

State *state()
{
	State *s = s_state.load(keel::MemoryOrder::Acquire);
	if (s)
		return s;
	State *fresh = new (GFP_KERNEL) State;
	if (!fresh)
		return nullptr;
	State *none = nullptr;
	if (!s_state.compare_exchange(none, fresh)) {
		delete fresh;
		return none;
	}
	return fresh;
}

int fail(int err)
{
	errno = err < 0 ? -err : err;
	return -1;
}

bool ours(int fd)
{
	return fd >= RPMSGDEV_FD_BASE && fd < RPMSGDEV_FD_BASE + MAX_FILES;
}

void put_file(File *f)
{
	if (f->refs.sub_return(1))
		return;
	if (f->opened)
		f->node->close();
	delete f;
}

/* The file of @fd with a reference for the caller, or null (errno EBADF). */
File *get_file(int fd)
{
	State *s = state();
	if (!s || !ours(fd)) {
		errno = EBADF;
		return nullptr;
	}
	Guard g{ s->lock };
	File *f = s->files[fd - RPMSGDEV_FD_BASE];
	if (!f) {
		errno = EBADF;
		return nullptr;
	}
	f->refs.fetch_add(1);
	return f;
}

/*
 * A call on descriptor @fd: libc's @libc(fd, args...) for a descriptor of
 * libc's; else @op(file, args...) on its file, held while @op runs, or -1
 * (EBADF) when it has none. errno is as @op left it: dropping the file
 * (perhaps its last reference, closing the node) must not change it.
 */
template <typename T, typename Libc, typename... P, typename... A>
T fd_call(int fd, Libc libc, T (*op)(File &, P...), A... args)
{
	if (!ours(fd))
		return libc(fd, args...);
	File *f = get_file(fd);
	if (!f)
		return -1;
	T ret = op(*f, args...);
	int err = errno;
	put_file(f);
	errno = err;
	return ret;
}

/* A descriptor for @f (taking the caller's reference), or -1 (EMFILE). */
int install(File *f)
{
	State *s = state();
	{
		Guard g{ s->lock };
		for (int i = 0; i < MAX_FILES; i++) {
			if (!s->files[i]) {
				s->files[i] = f;
				return RPMSGDEV_FD_BASE + i;
			}
		}
	}
	put_file(f);
	errno = EMFILE;
	return -1;
}

bool starts_with(const char *s, const char *prefix, const char **rest)
{
	size_t n = strlen(prefix);
	if (strncmp(s, prefix, n))
		return false;
	*rest = s + n;
	return true;
}

/* Paths: ours, and what they name. */
enum class PathKind { Libc, None, Node, ClassDir, BusDir, Attr, NodeDir };

struct Path {
	PathKind kind = PathKind::Libc;
	RefPtr<RpmsgCharNode> node;
	char attr[64] = {};
};

bool node_in(RefPtr<RpmsgCharNode> &n, bool bus)
{
	return n && (n->kind() == RpmsgCharKind::Channel) == bus;
}

/* "<node>" or "<node>/<attr>" below a class or bus directory. */
Path below(const char *rest, bool bus)
{
	Path p;
	p.kind = PathKind::None;
	if (*rest == '\0') {
		p.kind = bus ? PathKind::BusDir : PathKind::ClassDir;
		return p;
	}
	if (*rest != '/')
		return p;
	rest++;
	char name[96];
	const char *slash = rest;
	while (*slash && *slash != '/')
		slash++;
	size_t n = size_t(slash - rest);
	if (*slash == '\0')
		slash = nullptr;
	if (n == 0 || n >= sizeof(name))
		return p;
	memcpy(name, rest, n);
	name[n] = '\0';
	RefPtr<RpmsgCharNode> node = rpmsg::rpmsg_char_find(name);
	if (!node_in(node, bus))
		return p;
	if (!slash || slash[1] == '\0') {
		p.kind = PathKind::NodeDir;
		p.node = keel::move(node);
		return p;
	}
	for (const char *const *a = RpmsgCharNode::attrs(node->kind()); *a; a++) {
		if (!strcmp(*a, slash + 1)) {
			p.kind = PathKind::Attr;
			p.node = keel::move(node);
			(void)keel::strscpy(p.attr, *a, sizeof(p.attr));
			return p;
		}
	}
	return p;
}

Path resolve(const char *path)
{
	Path p;
	const char *rest;
	if (!path)
		return p;
	if (starts_with(path, DEV, &rest) && !strncmp(rest, "rpmsg", 5)) {
		p.kind = PathKind::None;
		RefPtr<RpmsgCharNode> node = rpmsg::rpmsg_char_find(rest);
		if (node_in(node, false)) {
			p.kind = PathKind::Node;
			p.node = keel::move(node);
		}
		return p;
	}
	if (starts_with(path, CLASS, &rest))
		return below(rest, false);
	if (starts_with(path, BUS, &rest))
		return below(rest, true);
	return p;
}

/* --- the frontend: nothing to make visible (the core's list is the registry) --- */

keel::Result<void> fe_publish(RpmsgCharNode &)
{
	return keel::ok();
}

void fe_unpublish(RpmsgCharNode &) {}

/*
 * Hosted memory has no user/kernel split: only addresses that cannot be
 * valid fault, and only in the caller's buffer of a copy (@caller says
 * which one that is: the destination of a read, the source of a write).
 */
enum class CallerBuf { Dst, Src };

template <CallerBuf caller> keel::Result<void> fe_copy(void *to, const void *from, size_t n)
{
	const void *ubuf = caller == CallerBuf::Dst ? to : from;

	if (reinterpret_cast<unsigned long>(ubuf) < 4096)
		return keel::err(-EFAULT);
	memcpy(to, from, n);
	return keel::ok();
}

/* One descriptor of a poll(): hears its node's queue, wakes the poller. */
struct PollSlot {
	keel::WaitQueue *wake;
	keel::Atomic<u32> *events;
	keel::WaitCallback cb{ [](keel::WaitCallback &c) {
		PollSlot *s = keel::container_of(&c, &PollSlot::cb);
		s->events->fetch_add(1);
		s->wake->wake_up();
	} };
};

void fe_poll_wait(keel::WaitQueue &wq, void *ctx)
{
	if (ctx)
		static_cast<PollSlot *>(ctx)->cb.add(wq);
}

constinit const rpmsg::RpmsgCharFrontend s_fe = {
	.name = "rpmsgdev",
	.publish = fe_publish,
	.unpublish = fe_unpublish,
	.copy_out = fe_copy<CallerBuf::Dst>,
	.copy_in = fe_copy<CallerBuf::Src>,
	.copy_to_user = fe_copy<CallerBuf::Dst>,
	.copy_from_user = fe_copy<CallerBuf::Src>,
	.poll_wait = fe_poll_wait,
	.queue_max = 0,
};

template <typename T> ssize_t ret_of(const keel::Result<T> &r)
{
	return r.is_ok() ? ssize_t(r.value()) : fail(r.error().to_errno());
}

/* --- the file operations: a node's, or an attribute's text --- */

ssize_t file_read(File &f, void *buf, size_t count)
{
	if (!f.is_attr)
		return ret_of(f.node->read(buf, count, f.flags.load() & O_NONBLOCK));
	size_t off = f.off.load();
	size_t n = off < f.len ? keel::min(count, f.len - off) : 0;
	memcpy(buf, f.text + off, n);
	f.off.store(off + n);
	return ssize_t(n);
}

ssize_t file_write(File &f, const void *buf, size_t count)
{
	if (f.is_attr)
		return fail(EACCES);
	return ret_of(f.node->write(buf, count, f.flags.load() & O_NONBLOCK));
}

int file_ioctl(File &f, unsigned long request, unsigned long arg)
{
	if (f.is_attr)
		return fail(ENOTTY);
	return int(ret_of(f.node->ioctl(unsigned(request), arg)));
}

/* F_GETFL, and F_SETFL of O_NONBLOCK (the only flag that changes a call). */
int file_fcntl(File &f, int cmd, unsigned long arg)
{
	if (cmd == F_GETFL)
		return f.flags.load();
	if (cmd != F_SETFL)
		return fail(EINVAL);
	f.flags.store((f.flags.load() & ~O_NONBLOCK) | (int(arg) & O_NONBLOCK));
	return 0;
}

} // namespace

extern "C" int rpmsgdev_init(void)
{
	State *s = state();
	if (!s)
		return fail(ENOMEM);
	Guard g{ s->lock };
	if (s->inits == 0) {
		keel::Result<void> r = rpmsg::rpmsg_char_register(s_fe);
		if (r.is_error())
			return fail(r.error().to_errno());
	}
	s->inits++;
	return 0;
}

extern "C" void rpmsgdev_exit(void)
{
	State *s = state();
	if (!s)
		return;
	Guard g{ s->lock };
	if (s->inits && --s->inits == 0)
		rpmsg::rpmsg_char_unregister();
}

extern "C" int rpmsgdev_open(const char *path, int flags, ...)
{
	Path p = resolve(path);
	if (p.kind == PathKind::Libc) {
		va_list ap;
		va_start(ap, flags);
		mode_t mode = (flags & O_CREAT) ? mode_t(va_arg(ap, unsigned int)) : 0;
		va_end(ap);
		return ::open(path, flags, mode);
	}
	if (p.kind == PathKind::None)
		return fail(ENOENT);
	if (p.kind != PathKind::Node && p.kind != PathKind::Attr)
		return fail(EISDIR);
	File *f = new (GFP_KERNEL) File;
	if (!f)
		return fail(ENOMEM);
	f->node = keel::move(p.node);
	f->flags.store(flags);
	if (p.kind == PathKind::Attr) {
		f->is_attr = true;
		keel::Result<size_t> r = f->node->show(p.attr, f->text, sizeof(f->text));
		if (r.is_error()) {
			delete f;
			return fail(r.error().to_errno());
		}
		f->len = r.value();
	} else {
		keel::Result<void> r = f->node->open();
		if (r.is_error()) {
			delete f;
			return fail(r.error().to_errno());
		}
		f->opened = true;
	}
	return install(f);
}

extern "C" int rpmsgdev_close(int fd)
{
	if (!ours(fd))
		return ::close(fd);
	State *s = state();
	if (!s)
		return fail(EBADF);
	File *f;
	{
		Guard g{ s->lock };
		f = s->files[fd - RPMSGDEV_FD_BASE];
		s->files[fd - RPMSGDEV_FD_BASE] = nullptr;
	}
	if (!f)
		return fail(EBADF);
	put_file(f);
	return 0;
}

extern "C" int rpmsgdev_dup(int fd)
{
	if (!ours(fd))
		return ::dup(fd);
	File *f = get_file(fd);
	return f ? install(f) : -1;
}

extern "C" ssize_t rpmsgdev_read(int fd, void *buf, size_t count)
{
	return fd_call(fd, ::read, file_read, buf, count);
}

extern "C" ssize_t rpmsgdev_write(int fd, const void *buf, size_t count)
{
	return fd_call(fd, ::write, file_write, buf, count);
}

extern "C" int rpmsgdev_ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	va_start(ap, request);
	unsigned long arg = va_arg(ap, unsigned long);
	va_end(ap);
	return fd_call(fd, ::ioctl, file_ioctl, request, arg);
}

extern "C" int rpmsgdev_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	unsigned long arg = va_arg(ap, unsigned long);
	va_end(ap);
	return fd_call(fd, ::fcntl, file_fcntl, cmd, arg);
}

extern "C" int rpmsgdev_poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	bool any_ours = false, any_libc = false;
	for (nfds_t i = 0; i < nfds; i++) {
		if (ours(fds[i].fd))
			any_ours = true;
		else if (fds[i].fd >= 0)
			any_libc = true;
	}
	if (!any_ours)
		return ::poll(fds, nfds, timeout);
	if (nfds > 64)
		return fail(EINVAL);
	keel::WaitQueue wake{ "rpmsgdev_poll", KEEL_LOCK_KEY() };
	keel::Atomic<u32> events{ 0 };
	PollSlot slots[64];
	File *files[64] = {};
	for (nfds_t i = 0; i < nfds; i++) {
		slots[i].wake = &wake;
		slots[i].events = &events;
		if (ours(fds[i].fd))
			files[i] = get_file(fds[i].fd);
	}
	s64 deadline = timeout < 0 ? 0 : keel::ktime_get_ns() + keel::ms_to_ns(timeout);
	int ready = 0;
	for (;;) {
		u32 seen = events.load();
		ready = 0;
		for (nfds_t i = 0; i < nfds; i++) {
			struct pollfd &p = fds[i];
			p.revents = 0;
			if (p.fd < 0)
				continue;
			if (ours(p.fd)) {
				if (!files[i])
					p.revents = POLLNVAL;
				else if (files[i]->is_attr)
					p.revents = short(p.events & (POLLIN | POLLRDNORM));
				else
					p.revents = short(files[i]->node->poll(&slots[i]) &
							  u32(p.events | POLLERR | POLLHUP));
			} else {
				struct pollfd one = { p.fd, p.events, 0 };
				if (::poll(&one, 1, 0) > 0)
					p.revents = one.revents;
			}
			ready += p.revents != 0;
		}
		if (ready || timeout == 0)
			break;
		s64 left = timeout < 0 ? keel::TIMEOUT_INFINITE : deadline - keel::ktime_get_ns();
		if (left <= 0)
			break;
		/* Descriptors of libc are looked at again every 10 ms. */
		if (any_libc && left > keel::ms_to_ns(10))
			left = keel::ms_to_ns(10);
		(void)wake.wait_event_timeout([&] { return events.load() != seen; }, left);
	}
	for (nfds_t i = 0; i < nfds; i++) {
		slots[i].cb.remove();
		if (files[i])
			put_file(files[i]);
	}
	return ready;
}

extern "C" int rpmsgdev_stat(const char *path, struct stat *st)
{
	Path p = resolve(path);
	if (p.kind == PathKind::Libc)
		return ::stat(path, st);
	if (p.kind == PathKind::None)
		return fail(ENOENT);
	memset(st, 0, sizeof(*st));
	switch (p.kind) {
	case PathKind::Node:
		st->st_mode = S_IFCHR | 0600;
		st->st_rdev = p.node->id();
		break;
	case PathKind::Attr:
		st->st_mode = S_IFREG | 0444;
		st->st_size = 4096;
		break;
	default:
		st->st_mode = S_IFDIR | 0755;
		break;
	}
	return 0;
}

namespace {

struct ListArgs {
	bool bus;
	char (*names)[64];
	u32 count, max;
};

} // namespace

extern "C" DIR *rpmsgdev_opendir(const char *path)
{
	Path p = resolve(path);
	if (p.kind == PathKind::Libc)
		return ::opendir(path);
	if (p.kind != PathKind::ClassDir && p.kind != PathKind::BusDir) {
		errno = p.kind == PathKind::None ? ENOENT : ENOTDIR;
		return nullptr;
	}
	State *s = state();
	Dir *d = new (GFP_KERNEL) Dir;
	constexpr u32 MAX = 4096;
	auto *names = static_cast<char(*)[64]>(keel::kzalloc(MAX * 64, GFP_KERNEL));
	if (!s || !d || !names) {
		delete d;
		keel::kfree(names);
		errno = ENOMEM;
		return nullptr;
	}
	ListArgs a{ p.kind == PathKind::BusDir, names, 0, MAX };
	(void)rpmsg::rpmsg_char_for_each(
		[](RpmsgCharNode &n, void *arg) {
			auto *a = static_cast<ListArgs *>(arg);
			if ((n.kind() == RpmsgCharKind::Channel) != a->bus)
				return true;
			(void)keel::strscpy(a->names[a->count++], n.name(), 64);
			return a->count < a->max;
		},
		&a);
	d->names = names;
	d->count = a.count;
	Guard g{ s->lock };
	d->next = s->dirs;
	s->dirs = d;
	/* SAFETY: only rpmsgdev_readdir()/closedir() see it, after finding it on the list. */
	return reinterpret_cast<DIR *>(d);
}

namespace {

/* Our Dir behind @dir, or null for libc's. */
Dir *find_dir(DIR *dir, bool unlink)
{
	State *s = s_state.load(keel::MemoryOrder::Acquire);
	if (!s)
		return nullptr;
	Guard g{ s->lock };
	for (Dir **pp = &s->dirs; *pp; pp = &(*pp)->next) {
		if (reinterpret_cast<DIR *>(*pp) == dir) {
			Dir *d = *pp;
			if (unlink)
				*pp = d->next;
			return d;
		}
	}
	return nullptr;
}

} // namespace

extern "C" struct dirent *rpmsgdev_readdir(DIR *dir)
{
	Dir *d = find_dir(dir, false);
	if (!d)
		return ::readdir(dir);
	if (d->pos >= d->count)
		return nullptr;
	memset(&d->ent, 0, sizeof(d->ent));
	(void)keel::strscpy(d->ent.d_name, d->names[d->pos++], sizeof(d->ent.d_name));
	d->ent.d_type = DT_DIR;
	return &d->ent;
}

extern "C" int rpmsgdev_closedir(DIR *dir)
{
	Dir *d = find_dir(dir, true);
	if (!d)
		return ::closedir(dir);
	keel::kfree(d->names);
	delete d;
	return 0;
}
