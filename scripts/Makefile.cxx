# SPDX-License-Identifier: GPL-2.0
#
# Kbuild rule for C++ objects (.cpp -> .o) in keel's external modules.
# Included from the Kbuild files; it runs inside scripts/Makefile.build, so
# every Kbuild variable used here ($(c_flags), $(cmd_objtool), if_changed_rule,
# cmd_and_fixdep) is evaluated per object exactly as for the kernel's own C
# rule, which this one mirrors:
#
#   c_flags (per object)  - C-only flags  - forced compiler_types.h
#                         + C++ dialect and runtime flags   -> $(CXX) -c
#   then fixdep on the depfile (rebuild tracking) and objtool (as for C).
#
# Kbuild runs make with -rR: there is no built-in CXX. Derive it from $(CC) so
# that the C++ compiler is the very gcc the kernel was built with (Debian's
# headers say gcc-12, a self-built tree says gcc).

ifndef KEEL_CXX_RULE_INCLUDED
KEEL_CXX_RULE_INCLUDED := 1

# gcc -> g++, gcc-12 -> g++-12, x86_64-linux-gnu-gcc-12 -> x86_64-linux-gnu-g++-12.
KEEL_CXX ?= $(subst gcc,g++,$(CC))

# Flags Kbuild gives C that C++ rejects or warns about ("valid for C/ObjC but
# not for C++"). Kept as one list so a new kernel's addition is a one-line fix.
keel-cxx-c-only := -std=gnu11 -std=gnu89 \
	-Wstrict-prototypes -Werror=strict-prototypes \
	-Wold-style-definition -Wold-style-declaration \
	-Wmissing-prototypes -Wmissing-parameter-type \
	-Werror=implicit-function-declaration -Werror=implicit-int \
	-Werror=incompatible-pointer-types -Werror=designated-init \
	-Wno-pointer-sign -Wpointer-sign \
	-Wdeclaration-after-statement -Wno-declaration-after-statement \
	-Wno-override-init -Woverride-init -Wnested-externs \
	-Wimplicit-function-declaration -Wimplicit-int -Wbad-function-cast \
	-Wjump-misses-init

# Freestanding C++: no exceptions, no RTTI, no guarded statics, no
# registration of destructors, no unwind tables (the kernel unwinds with ORC).
keel-cxx-flags := -std=gnu++20 -nostdinc++ -ffreestanding -fno-exceptions -fno-rtti \
	-fno-threadsafe-statics -fno-use-cxa-atexit -fcheck-new \
	-fno-asynchronous-unwind-tables -fno-unwind-tables \
	-Wno-missing-field-initializers

# arm64: gcc 12 (Debian's default -moutline-atomics) turns C++ atomics into
# calls to libgcc's __aarch64_* helpers, which the kernel does not have; the
# kernel's own C never emits them (it uses its own atomics in asm).
keel-cxx-flags += $(call cc-option,-mno-outline-atomics)

# Debian's 6.12 headers ship vmlinux, so modules get BTF through pahole; the
# pahole of Debian 12 (1.24) crashes on C++ DWARF: no debug info for C++ then.
ifdef CONFIG_DEBUG_INFO_BTF_MODULES
keel-cxx-flags += -g0
endif

# No ftrace in C++ code (-pg -mfentry -mrecord-mcount): gcc's single
# __mcount_loc section per object points into the COMDAT sections of inline
# functions and template instances, and linking the composite module then
# fails ("defined in discarded section") when two objects emitted the same one.
# Likewise -fpatchable-function-entry (6.12 CALL_PADDING for call depth
# tracking): gcc 12 does not put __patchable_function_entries into the COMDAT
# group of its function. C++ functions then get no padding for call thunks.
# The C-only forced include goes; include/linux/kconfig.h (plain macros) stays.
keel-cxx-base-flags = $(filter-out $(keel-cxx-c-only) $(CC_FLAGS_FTRACE) -fpatchable-function-entry=%, \
	$(subst -include $(srctree)/include/linux/compiler_types.h,,$(c_flags)))

# UAPI first: <linux/foo.h> from C++ is the UAPI header (os/linux/cxx_prelude.h).
keel-cxx-uapi := -I$(srctree)/arch/$(SRCARCH)/include/uapi \
	-I$(objtree)/arch/$(SRCARCH)/include/generated/uapi \
	-I$(srctree)/include/uapi -I$(objtree)/include/generated/uapi
keel-cxx-dir := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
keel-cxx-prelude := -include $(keel-cxx-dir)/../os/linux/cxx_prelude.h

# Per-directory and per-object extras, as ccflags-y/CFLAGS_foo.o are for C:
#   cxxflags-y              every C++ object of the Kbuild file
#   CXXFLAGS_foo.o          one object
keel-cxx-all-flags = $(keel-cxx-uapi) $(keel-cxx-base-flags) $(keel-cxx-prelude) $(keel-cxx-flags) $(cxxflags-y) \
	$(CXXFLAGS_$(target-stem).o)

quiet_cmd_cxx_o_cpp = C++ $(quiet_modtag) $@
      cmd_cxx_o_cpp = $(KEEL_CXX) $(keel-cxx-all-flags) -c -o $@ $< \
	&& NM="$(NM)" $(CONFIG_SHELL) $(keel-cxx-dir)/check_rt_helpers.sh \
		--symvers $(objtree)/Module.symvers $@ $(cmd_objtool)

define rule_cxx_o_cpp
	$(call cmd_and_fixdep,cxx_o_cpp)
	$(call cmd,gen_objtooldep)
endef

$(obj)/%.o: $(src)/%.cpp FORCE
	$(call if_changed_rule,cxx_o_cpp)

# Preprocessed output, for looking at what a header expands to: make ... foo.ii
quiet_cmd_cxx_ii_cpp = CXXPP   $@
      cmd_cxx_ii_cpp = $(KEEL_CXX) $(keel-cxx-all-flags) -E -o $@ $<

$(obj)/%.ii: $(src)/%.cpp FORCE
	$(call if_changed_dep,cxx_ii_cpp)

endif
