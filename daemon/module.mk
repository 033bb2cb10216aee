LIB_SRCS += $(filter-out daemon/main.c,$(wildcard daemon/*.c))
MANTAD_SRCS += daemon/main.c
