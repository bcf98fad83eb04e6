// SPDX-License-Identifier: GPL-2.0
/*
 * The C++ runtime pieces the compiler references, defined by the framework
 * so that no libstdc++/libsupc++ code is linked on any port: allocation
 * operators (all of them, including the sized deletes a virtual destructor
 * references) and __cxa_pure_virtual (g++ references it weakly: left
 * undefined it would silently resolve to 0).
 */
#include <keel/alloc.h>

constinit u64 keel::g_alloc_calls = 0;

void *operator new(__SIZE_TYPE__ size, keel::Gfp gfp) noexcept
{
	keel::note_alloc();
	return keel_port_kmalloc(size, gfp.flags);
}

void *operator new[](__SIZE_TYPE__ size, keel::Gfp gfp) noexcept
{
	keel::note_alloc();
	return keel_port_kmalloc(size, gfp.flags);
}

void operator delete(void *p, keel::Gfp) noexcept
{
	keel_port_kfree(p);
}

void operator delete[](void *p, keel::Gfp) noexcept
{
	keel_port_kfree(p);
}

/*
 * The replaceable global deletes: plain `delete` of what new (gfp) made.
 * ThreadSanitizer's runtime is linked statically and defines them too;
 * there its definitions (which free through the same malloc heap) serve.
 */
#if !KEEL_TSAN
void operator delete(void *p) noexcept
{
	keel_port_kfree(p);
}

void operator delete[](void *p) noexcept
{
	keel_port_kfree(p);
}

void operator delete(void *p, __SIZE_TYPE__) noexcept
{
	keel_port_kfree(p);
}

void operator delete[](void *p, __SIZE_TYPE__) noexcept
{
	keel_port_kfree(p);
}

#endif

extern "C" void __cxa_pure_virtual()
{
	keel_port_bug(__FILE__, __LINE__, "pure virtual function called");
}
