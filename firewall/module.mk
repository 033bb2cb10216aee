LIB_SRCS += $(wildcard firewall/*.c)
