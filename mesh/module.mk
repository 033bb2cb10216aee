LIB_SRCS += $(wildcard mesh/*.c)
