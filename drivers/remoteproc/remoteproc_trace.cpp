// SPDX-License-Identifier: GPL-2.0
/*
 * Trace buffers of a remote processor (Linux remoteproc_debugfs.c's
 * "trace<N>"): the RSC_TRACE entries of the resource table name text logs
 * the remote writes in the shared region. read_trace() copies one as
 * text; at each crash the core keeps a copy (Linux's crash dump of trace
 * 0, for every trace here), which survives the region reset and the
 * restart, so that the dead remote's last words can be read afterwards.
 *
 * The remote writes the buffers: every copy is bounded by the entry's
 * length (validated against the region) and by the reader's buffer, and
 * stops at the first NUL.
 */
#include <keel/log.h>
#include <keel/string.h>
#include <virtio/virtio_shm.h>

#include "remoteproc_internal.h"

namespace rproc {

using keel::Guard;

/* Crash copies larger than this keep their first bytes only. */
static constexpr size_t TRACE_DUMP_MAX = 64 * 1024;

static size_t dump_size(const RscTrace &t)
{
	return t.len < TRACE_DUMP_MAX ? t.len : TRACE_DUMP_MAX;
}

/* After an attach: room for the crash copies of this table's buffers (process context). */
void Rproc::Core::setup_traces()
{
	const RscTableInfo &info = rp->m_shm->table();
	u32 n = info.num_traces;
	for (u32 i = 0; i < n; i++) {
		size_t want = dump_size(info.traces[i]);
		char *fresh = nullptr;
		{
			Guard g{ trace_lock };
			if (dumps[i].buf && dumps[i].len == want)
				continue;
		}
		fresh = static_cast<char *>(keel::kzalloc(want + 1, GFP_KERNEL));
		char *old;
		{
			Guard g{ trace_lock };
			old = dumps[i].buf;
			dumps[i].buf = fresh;
			dumps[i].len = fresh ? want : 0;
			dumps[i].valid = false;
		}
		keel::kfree(old);
	}
	rp->m_nr_traces.store(n);
}

/* Copies trace @t of the region into @dst (@room bytes, NUL included): the length. */
static size_t copy_trace(const keel::ShmRegion &region, const RscTrace &t, char *dst, size_t room)
{
	if (room == 0)
		return 0;
	size_t n = t.len < room - 1 ? t.len : room - 1;
	Result<size_t> off = region.da_to_offset(t.da, t.len);
	if (off.is_error() || region.invalidate(off.value(), n).is_error() ||
	    region.copy_from(dst, off.value(), n).is_error())
		n = 0;
	dst[n] = '\0';
	return strlen(dst);
}

/* At a crash, before the devices go and the region is wiped. */
void Rproc::Core::snapshot_traces()
{
	u32 n = rp->m_nr_traces.load();
	const RscTableInfo &info = rp->m_shm->table();
	for (u32 i = 0; i < n && i < info.num_traces; i++) {
		Guard g{ trace_lock };
		if (!dumps[i].buf)
			continue;
		(void)copy_trace(rp->m_cfg.region, info.traces[i], dumps[i].buf, dumps[i].len + 1);
		dumps[i].valid = true;
	}
}

void Rproc::Core::free_traces()
{
	for (TraceDump &d : dumps) {
		char *buf;
		{
			Guard g{ trace_lock };
			buf = keel::exchange(d.buf, nullptr);
			d.len = 0;
			d.valid = false;
		}
		keel::kfree(buf);
	}
}

Result<size_t> Rproc::read_trace(u32 i, keel::Span<char> buf, bool crash_dump)
{
	might_sleep();
	if (buf.size() == 0 || i >= RSC_MAX_TRACES)
		return keel::err(buf.size() ? -ENOENT : -EINVAL);
	Core *c = m_core;
	if (crash_dump) {
		Guard g{ c->trace_lock };
		const Core::TraceDump &d = c->dumps[i];
		if (!d.buf || !d.valid)
			return keel::err(-ENOENT);
		(void)keel::strscpy(buf.data(), d.buf, buf.size());
		return strlen(buf.data());
	}
	/* The table of the running session: no detach while we copy. */
	Guard m{ c->lock };
	if (i >= m_nr_traces.load() || !m_shm->attached())
		return keel::err(-ENOENT);
	return copy_trace(m_cfg.region, m_shm->table().traces[i], buf.data(), buf.size());
}

} // namespace rproc
