/* SPDX-License-Identifier: MIT */
/*
 * The Multi-Core Debug (MCD) API, version 1.1 ABI, for libmcd.
 *
 * libmcd is MIT licensed, so that proprietary debuggers may load it.
 *
 * This header was written for libmcd from the published description of
 * the MCD API (types, constants, structure layouts and functions of the
 * SPRINT project's mcd_api.h, API version 1.1).  It declares the same
 * ABI: mcd_bool_t is 8 bits on Linux and macOS and 32 bits elsewhere,
 * every enumeration type is a uint32_t, and the structures have the
 * field order, types and natural alignment of API 1.1.
 * mcd-layout-check.c checks the layout when the library is built.
 */

#ifndef LIBMCD_MCD_API_H
#define LIBMCD_MCD_API_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Calling convention and export of the API functions.  The library is
 * built with LIBMCD_BUILD defined and -fvisibility=hidden, so that only
 * the mcd_*_f functions are exported.  On Windows they are __cdecl, as
 * API 1.1 fixed it (x64 has only the one convention; 32-bit x86 needs
 * it said).
 */
#if defined(_WIN32)
#define MCD_API_CALL __cdecl
#else
#define MCD_API_CALL
#endif

#if defined(_WIN32)
#ifdef LIBMCD_BUILD
#define MCD_API __declspec(dllexport)
#else
#define MCD_API __declspec(dllimport)
#endif
#elif defined(LIBMCD_BUILD) && defined(__GNUC__)
#define MCD_API __attribute__((visibility("default")))
#else
#define MCD_API
#endif

/* Version of the API this header declares. */
#define MCD_API_VER_MAJOR 1
#define MCD_API_VER_MINOR 1
#define MCD_API_VER_AUTHOR "libmcd"

/*
 * Basic types
 */

typedef char mcd_char_t;

#if defined(__linux__) || defined(__APPLE__)
typedef uint8_t mcd_bool_t;
#else
typedef uint32_t mcd_bool_t;
#endif

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif

/*
 * Constants
 */

#define MCD_HOSTNAME_LEN            64
#define MCD_REG_NAME_LEN            32
#define MCD_MEM_SPACE_NAME_LEN      32
#define MCD_MEM_BLOCK_NAME_LEN      32
#define MCD_MEM_BLOCK_NOPARENT      0
#define MCD_MEM_AUSIZE_NUM          8
#define MCD_INFO_STR_LEN            256
#define MCD_KEY_LEN                 64
#define MCD_UNIQUE_NAME_LEN         64
#define MCD_MAX_TRIGS               32
#define MCD_API_IMP_VENDOR_LEN      32
#define MCD_CHL_NUM_MAX             32
#define MCD_CHL_LOWEST_PRIORITY     15
#define MCD_TX_NUM_MAX              64
#define MCD_GUARANTEED_MIN_PAYLOAD  16384
#define MCD_CORE_MODE_NAME_LEN      32

/*
 * Enumerations: each type is a uint32_t, its values anonymous enum
 * constants.
 */

typedef uint32_t mcd_return_et;
enum {
    MCD_RET_ACT_NONE            = 0x00000000,
    MCD_RET_ACT_AGAIN           = 0x00000001,
    MCD_RET_ACT_HANDLE_EVENT    = 0x00000002,
    MCD_RET_ACT_HANDLE_ERROR    = 0x00000003,
    MCD_RET_ACT_RESERVED_LO     = 0x00000004,
    MCD_RET_ACT_RESERVED_HI     = 0x00008000,
    MCD_RET_ACT_CUSTOM_LO       = 0x00010000,
    MCD_RET_ACT_CUSTOM_HI       = 0x40000000,
};

typedef uint32_t mcd_error_code_et;
enum {
    MCD_ERR_NONE                        = 0x0000,
    MCD_ERR_FN_UNIMPLEMENTED            = 0x0100,
    MCD_ERR_USAGE                       = 0x0101,
    MCD_ERR_PARAM                       = 0x0102,
    MCD_ERR_CONNECTION                  = 0x0200,
    MCD_ERR_TIMED_OUT                   = 0x0201,
    MCD_ERR_GENERAL                     = 0x0F00,
    MCD_ERR_RESULT_TOO_LONG             = 0x1000,
    MCD_ERR_COULD_NOT_START_SERVER      = 0x1100,
    MCD_ERR_SERVER_LOCKED               = 0x1101,
    MCD_ERR_NO_MEM_SPACES               = 0x1401,
    MCD_ERR_NO_MEM_BLOCKS               = 0x1402,
    MCD_ERR_MEM_SPACE_ID                = 0x1410,
    MCD_ERR_NO_REG_GROUPS               = 0x1440,
    MCD_ERR_REG_GROUP_ID                = 0x1441,
    MCD_ERR_REG_NOT_COMPOUND            = 0x1442,
    MCD_ERR_OVERLAYS                    = 0x1500,
    MCD_ERR_DEVICE_ACCESS               = 0x1900,
    MCD_ERR_DEVICE_LOCKED               = 0x1901,
    MCD_ERR_TXLIST_READ                 = 0x2100,
    MCD_ERR_TXLIST_WRITE                = 0x2101,
    MCD_ERR_TXLIST_TX                   = 0x2102,
    MCD_ERR_CHL_TYPE_NOT_SUPPORTED      = 0x3100,
    MCD_ERR_CHL_TARGET_NOT_SUPPORTED    = 0x3101,
    MCD_ERR_CHL_SETUP                   = 0x3102,
    MCD_ERR_CHL_MESSAGE_FAILED          = 0x3140,
    MCD_ERR_TRIG_CREATE                 = 0x3200,
    MCD_ERR_TRIG_ACCESS                 = 0x3201,
    MCD_ERR_CUSTOM_LO                   = 0x10000000,
    MCD_ERR_CUSTOM_HI                   = 0x7FFFFFFF,
};

typedef uint32_t mcd_error_event_et;
enum {
    MCD_ERR_EVT_NONE            = 0x00000000,
    MCD_ERR_EVT_RESET           = 0x00000001,
    MCD_ERR_EVT_PWRDN           = 0x00000002,
    MCD_ERR_EVT_HWFAILURE       = 0x00000004,
    MCD_ERR_EVT_RESERVED_LO     = 0x00000008,
    MCD_ERR_EVT_RESERVED_HI     = 0x00008000,
    MCD_ERR_EVT_CUSTOM_LO       = 0x00010000,
    MCD_ERR_EVT_CUSTOM_HI       = 0x40000000,
};

typedef uint32_t mcd_addr_space_type_et;
enum {
    MCD_NOTUSED_ID      = 0,
    MCD_OVERLAY_ID      = 1,
    MCD_MEMBANK_ID      = 2,
    MCD_PROCESS_ID      = 3,
    MCD_HW_THREAD_ID    = 4,
};

typedef uint32_t mcd_mem_type_et;
enum {
    MCD_MEM_SPACE_DEFAULT       = 0x00000000,
    MCD_MEM_SPACE_IS_REGISTERS  = 0x00000001,
    MCD_MEM_SPACE_IS_PROGRAM    = 0x00000002,
    MCD_MEM_SPACE_IS_VIRTUAL    = 0x00000004,
    MCD_MEM_SPACE_IS_CACHE      = 0x00000008,
    MCD_MEM_SPACE_IS_PHYSICAL   = 0x00000010,
    MCD_MEM_SPACE_IS_LOGICAL    = 0x00000020,
    MCD_MEM_SPACE_RESERVED_LO   = 0x00000040,
    MCD_MEM_SPACE_RESERVED_HI   = 0x00008000,
    MCD_MEM_SPACE_CUSTOM_LO     = 0x00010000,
    MCD_MEM_SPACE_CUSTOM_HI     = 0x40000000,
};

typedef uint32_t mcd_endian_et;
enum {
    MCD_ENDIAN_DEFAULT  = 0,
    MCD_ENDIAN_LITTLE   = 1,
    MCD_ENDIAN_BIG      = 2,
};

typedef uint32_t mcd_reg_type_et;
enum {
    MCD_REG_TYPE_SIMPLE     = 0,
    MCD_REG_TYPE_COMPOUND   = 1,
    MCD_REG_TYPE_PARTIAL    = 2,
};

typedef uint32_t mcd_trig_type_et;
enum {
    MCD_TRIG_TYPE_UNDEFINED = 0x00000000,
    MCD_TRIG_TYPE_IP        = 0x00000001,
    MCD_TRIG_TYPE_READ      = 0x00000002,
    MCD_TRIG_TYPE_WRITE     = 0x00000004,
    MCD_TRIG_TYPE_RW        = 0x00000008,
    MCD_TRIG_TYPE_NOCYCLE   = 0x00000010,
    MCD_TRIG_TYPE_TRIG_BUS  = 0x00000020,
    MCD_TRIG_TYPE_COUNTER   = 0x00000040,
    MCD_TRIG_TYPE_CUSTOM    = 0x00000080,
    MCD_TRIG_TYPE_CUSTOM_LO = 0x00010000,
    MCD_TRIG_TYPE_CUSTOM_HI = 0x40000000,
};

typedef uint32_t mcd_trig_opt_et;
enum {
    MCD_TRIG_OPT_DEFAULT                    = 0x00000000,
    MCD_TRIG_OPT_IMPL_HARDWARE              = 0x00000001,
    MCD_TRIG_OPT_IMPL_SOFTWARE              = 0x00000002,
    MCD_TRIG_OPT_OUT_OF_RANGE               = 0x00000004,
    MCD_TRIG_OPT_DATA_IS_CONDITION          = 0x00000008,
    MCD_TRIG_OPT_DATASIZE_IS_CONDITION      = 0x00000010,
    MCD_TRIG_OPT_NOT_DATA                   = 0x00000020,
    MCD_TRIG_OPT_SIGNED_DATA                = 0x00000040,
    MCD_TRIG_OPT_HW_THREAD_IS_CONDITION     = 0x00000080,
    MCD_TRIG_OPT_NOT_HW_THREAD              = 0x00000100,
    MCD_TRIG_OPT_SW_THREAD_IS_CONDITION     = 0x00000200,
    MCD_TRIG_OPT_NOT_SW_THREAD              = 0x00000400,
    MCD_TRIG_OPT_DATA_MUST_CHANGE           = 0x00000800,
    MCD_TRIG_OPT_CORE_MODE_IS_CONDITION     = 0x00020000,
    MCD_TRIG_OPT_STATE_IS_CONDITION         = 0x00040000,
    MCD_TRIG_OPT_NOT                        = 0x00080000,
    MCD_TRIG_OPT_CUSTOM_LO                  = 0x00100000,
    MCD_TRIG_OPT_CUSTOM_HI                  = 0x40000000,
};

typedef uint32_t mcd_trig_action_et;
enum {
    MCD_TRIG_ACTION_DEFAULT                 = 0x00000000,
    MCD_TRIG_ACTION_DBG_DEBUG               = 0x00000001,
    MCD_TRIG_ACTION_DBG_GLOBAL              = 0x00000002,
    MCD_TRIG_ACTION_DBG_MONITOR             = 0x00000004,
    MCD_TRIG_ACTION_TRIG_BUS_EVENT          = 0x00000010,
    MCD_TRIG_ACTION_TRIG_BUS_SET            = 0x00000020,
    MCD_TRIG_ACTION_TRIG_BUS_CLEAR          = 0x00000040,
    MCD_TRIG_ACTION_TRACE_QUALIFY           = 0x00000100,
    MCD_TRIG_ACTION_TRACE_QUALIFY_PROGRAM   = 0x00000200,
    MCD_TRIG_ACTION_TRACE_QUALIFY_DATA      = 0x00000400,
    MCD_TRIG_ACTION_TRACE_START             = 0x00000800,
    MCD_TRIG_ACTION_TRACE_STOP              = 0x00001000,
    MCD_TRIG_ACTION_TRACE_TRIGGER           = 0x00002000,
    MCD_TRIG_ACTION_ANA_START_PERFM         = 0x00010000,
    MCD_TRIG_ACTION_ANA_STOP_PERFM          = 0x00020000,
    MCD_TRIG_ACTION_STATE_CHANGE            = 0x00040000,
    MCD_TRIG_ACTION_COUNT_QUALIFY           = 0x00080000,
    MCD_TRIG_ACTION_COUNT_START             = 0x00100000,
    MCD_TRIG_ACTION_COUNT_STOP              = 0x00200000,
    MCD_TRIG_ACTION_COUNT_RESTART           = 0x00400000,
    MCD_TRIG_ACTION_CUSTOM_LO               = 0x01000000,
    MCD_TRIG_ACTION_CUSTOM_HI               = 0x40000000,
};

typedef uint32_t mcd_tx_access_type_et;
enum {
    MCD_TX_AT_R     = 0x00000001,
    MCD_TX_AT_W     = 0x00000002,
    MCD_TX_AT_RW    = 0x00000003,
    MCD_TX_AT_WR    = 0x00000004,
};

typedef uint32_t mcd_tx_access_opt_et;
enum {
    MCD_TX_OPT_DEFAULT              = 0x00000000,
    MCD_TX_OPT_SIDE_EFFECTS         = 0x00000001,
    MCD_TX_OPT_NO_SIDE_EFFECTS      = 0x00000002,
    MCD_TX_OPT_BURST_ACCESSES       = 0x00000004,
    MCD_TX_OPT_NO_BURST_ACCESSES    = 0x00000008,
    MCD_TX_OPT_ALTERNATE_PATH       = 0x00000010,
    MCD_TX_OPT_PRIORITY_ACCESS      = 0x00000020,
    MCD_TX_OPT_DCACHE_WRITE_THRU    = 0x00000040,
    MCD_TX_OPT_CACHE_BYPASS         = 0x00000080,
    MCD_TX_OPT_NOINCREMENT          = 0x00000100,
    MCD_TX_OPT_ATOMIC_WITH_NEXT     = 0x00000200,
    MCD_TX_OPT_RESERVED_LO          = 0x00000400,
    MCD_TX_OPT_RESERVED_HI          = 0x00008000,
    MCD_TX_OPT_CUSTOM_LO            = 0x00010000,
    MCD_TX_OPT_CUSTOM_HI            = 0x40000000,
};

typedef uint32_t mcd_core_step_type_et;
enum {
    MCD_CORE_STEP_TYPE_CYCLES       = 0x00000001,
    MCD_CORE_STEP_TYPE_INSTR        = 0x00000002,
    MCD_CORE_STEP_TYPE_RESERVED_LO  = 0x00000004,
    MCD_CORE_STEP_TYPE_RESERVED_HI  = 0x000000FF,
    MCD_CORE_STEP_TYPE_CUSTOM_LO    = 0x00000100,
    MCD_CORE_STEP_TYPE_CUSTOM_HI    = 0x00000F00,
    MCD_CORE_STEP_TYPE_MAX_TYPES    = 0x7FFFFFFF,
};

typedef uint32_t mcd_core_state_et;
enum {
    MCD_CORE_STATE_UNKNOWN      = 0x00000000,
    MCD_CORE_STATE_RUNNING      = 0x00000001,
    MCD_CORE_STATE_HALTED       = 0x00000002,
    MCD_CORE_STATE_DEBUG        = 0x00000003,
    MCD_CORE_STATE_CUSTOM_LO    = 0x00000100,
    MCD_CORE_STATE_CUSTOM_HI    = 0x00000800,
    MCD_CORE_STATE_MAX_STATES   = 0x7FFFFFFF,
};

typedef uint32_t mcd_core_event_et;
enum {
    MCD_CORE_EVENT_NONE             = 0x00000000,
    MCD_CORE_EVENT_MEMORY_CHANGE    = 0x00000001,
    MCD_CORE_EVENT_REGISTER_CHANGE  = 0x00000002,
    MCD_CORE_EVENT_TRACE_CHANGE     = 0x00000004,
    MCD_CORE_EVENT_TRIGGER_CHANGE   = 0x00000008,
    MCD_CORE_EVENT_STOPPED          = 0x00000010,
    MCD_CORE_EVENT_CHL_PENDING      = 0x00000020,
    MCD_CORE_EVENT_CUSTOM_LO        = 0x00010000,
    MCD_CORE_EVENT_CUSTOM_HI        = 0x40000000,
};

typedef uint32_t mcd_chl_type_et;
enum {
    MCD_CHL_TYPE_COMMON     = 0x00000001,
    MCD_CHL_TYPE_CONFIG     = 0x00000002,
    MCD_CHL_TYPE_APPLI      = 0x00000003,
    MCD_CHL_TYPE_CUSTOM_LO  = 0x00000100,
    MCD_CHL_TYPE_CUSTOM_HI  = 0x00000F00,
};

typedef uint32_t mcd_chl_attributes_et;
enum {
    MCD_CHL_AT_RCV          = 0x00000001,
    MCD_CHL_AT_SND          = 0x00000002,
    MCD_CHL_AT_MEM_MAPPED   = 0x00000040,
    MCD_CHL_AT_HAS_PRIO     = 0x00000800,
};

typedef uint32_t mcd_trace_type_et;
enum {
    MCD_TRACE_TYPE_UNKNOWN      = 0x00000000,
    MCD_TRACE_TYPE_CORE         = 0x00000001,
    MCD_TRACE_TYPE_BUS          = 0x00000002,
    MCD_TRACE_TYPE_EVENT        = 0x00000004,
    MCD_TRACE_TYPE_STAT         = 0x00000008,
    MCD_TRACE_TYPE_CUSTOM_LO    = 0x00000100,
    MCD_TRACE_TYPE_CUSTOM_HI    = 0x40000000,
};

typedef uint32_t mcd_trace_format_et;
enum {
    MCD_TRACE_FORMAT_UNKNOWN                = 0x00000000,
    MCD_TRACE_FORMAT_CORE_FETCH             = 0x00000001,
    MCD_TRACE_FORMAT_CORE_EXECUTE           = 0x00000002,
    MCD_TRACE_FORMAT_CORE_FLOW_ICOUNT       = 0x00000003,
    MCD_TRACE_FORMAT_CORE_FLOW_BCOUNT       = 0x00000004,
    MCD_TRACE_FORMAT_CORE_FLOW_IPREDICATE   = 0x00000005,
    MCD_TRACE_FORMAT_EVENT                  = 0x00000010,
    MCD_TRACE_FORMAT_STAT                   = 0x00000020,
    MCD_TRACE_FORMAT_CUSTOM_LO              = 0x00000100,
    MCD_TRACE_FORMAT_CUSTOM_HI              = 0x7FFFFFFF,
};

typedef uint32_t mcd_trace_mode_et;
enum {
    MCD_TRACE_MODE_NOCHANGE     = 0x00000000,
    MCD_TRACE_MODE_FIFO         = 0x00000001,
    MCD_TRACE_MODE_STACK        = 0x00000002,
    MCD_TRACE_MODE_LEACH        = 0x00000004,
    MCD_TRACE_MODE_PIPE         = 0x00000008,
    MCD_TRACE_MODE_CUSTOM_LO    = 0x00000100,
    MCD_TRACE_MODE_CUSTOM_HI    = 0x40000000,
};

typedef uint32_t mcd_trace_state_et;
enum {
    MCD_TRACE_STATE_NOCHANGE    = 0x00000000,
    MCD_TRACE_STATE_DISABLE     = 0x00000001,
    MCD_TRACE_STATE_OFF         = 0x00000002,
    MCD_TRACE_STATE_ARM         = 0x00000003,
    MCD_TRACE_STATE_TRIGGER     = 0x00000004,
    MCD_TRACE_STATE_STOP        = 0x00000005,
    MCD_TRACE_STATE_INIT        = 0x00000010,
    MCD_TRACE_STATE_CUSTOM_LO   = 0x00000100,
    MCD_TRACE_STATE_CUSTOM_HI   = 0x7FFFFFFF,
};

typedef uint32_t mcd_trace_marker_et;
enum {
    MCD_TRACE_MARKER_NONE       = 0x00000000,
    MCD_TRACE_MARKER_RUN        = 0x00000001,
    MCD_TRACE_MARKER_DEBUG      = 0x00000002,
    MCD_TRACE_MARKER_START      = 0x00000004,
    MCD_TRACE_MARKER_STOP       = 0x00000008,
    MCD_TRACE_MARKER_ERROR      = 0x00000010,
    MCD_TRACE_MARKER_GAP        = 0x00000020,
    MCD_TRACE_MARKER_CUSTOM_LO  = 0x00000100,
    MCD_TRACE_MARKER_CUSTOM_HI  = 0x40000000,
};

typedef uint32_t mcd_trace_cycle_et;
enum {
    MCD_TRACE_CYCLE_UNKNOWN     = 0x00000000,
    MCD_TRACE_CYCLE_NONE        = 0x00000001,
    MCD_TRACE_CYCLE_EXECUTE     = 0x00000002,
    MCD_TRACE_CYCLE_NOTEXECUTE  = 0x00000003,
    MCD_TRACE_CYCLE_FETCH       = 0x00000004,
    MCD_TRACE_CYCLE_READ        = 0x00000005,
    MCD_TRACE_CYCLE_WRITE       = 0x00000006,
    MCD_TRACE_CYCLE_OWNERSHIP   = 0x00000007,
    MCD_TRACE_CYCLE_CUSTOM_LO   = 0x00000100,
    MCD_TRACE_CYCLE_CUSTOM_HI   = 0x7FFFFFFF,
};

/*
 * Structures
 */

typedef struct mcd_api_version_st {
    uint16_t v_api_major;
    uint16_t v_api_minor;
    mcd_char_t author[MCD_API_IMP_VENDOR_LEN];
} mcd_api_version_st;

typedef struct mcd_impl_version_info_st {
    mcd_api_version_st v_api;
    uint16_t v_imp_major;
    uint16_t v_imp_minor;
    uint16_t v_imp_build;
    mcd_char_t vendor[MCD_API_IMP_VENDOR_LEN];
    mcd_char_t date[16];
} mcd_impl_version_info_st;

typedef struct mcd_error_info_st {
    mcd_return_et return_status;
    mcd_error_code_et error_code;
    mcd_error_event_et error_events;
    mcd_char_t error_str[MCD_INFO_STR_LEN];
} mcd_error_info_st;

typedef struct mcd_server_info_st {
    mcd_char_t server[MCD_UNIQUE_NAME_LEN];
    mcd_char_t system_instance[MCD_UNIQUE_NAME_LEN];
    mcd_char_t acc_hw[MCD_UNIQUE_NAME_LEN];
} mcd_server_info_st;

typedef struct mcd_server_st {
    void *instance;
    const mcd_char_t *host;
    const mcd_char_t *config_string;
} mcd_server_st;

typedef struct mcd_core_con_info_st {
    mcd_char_t host[MCD_HOSTNAME_LEN];
    uint32_t server_port;
    mcd_char_t server_key[MCD_KEY_LEN];
    mcd_char_t system_key[MCD_KEY_LEN];
    mcd_char_t device_key[MCD_KEY_LEN];
    mcd_char_t system[MCD_UNIQUE_NAME_LEN];
    mcd_char_t system_instance[MCD_UNIQUE_NAME_LEN];
    mcd_char_t acc_hw[MCD_UNIQUE_NAME_LEN];
    uint32_t device_type;
    mcd_char_t device[MCD_UNIQUE_NAME_LEN];
    uint32_t device_id;
    mcd_char_t core[MCD_UNIQUE_NAME_LEN];
    uint32_t core_type;
    uint32_t core_id;
} mcd_core_con_info_st;

typedef struct mcd_core_st {
    void *instance;
    const mcd_core_con_info_st *core_con_info;
} mcd_core_st;

typedef struct mcd_core_mode_info_st {
    uint8_t core_mode;
    mcd_char_t name[MCD_CORE_MODE_NAME_LEN];
} mcd_core_mode_info_st;

typedef struct mcd_addr_st {
    uint64_t address;
    uint32_t mem_space_id;
    uint32_t addr_space_id;
    mcd_addr_space_type_et addr_space_type;
} mcd_addr_st;

typedef struct mcd_memspace_st {
    uint32_t mem_space_id;
    mcd_char_t mem_space_name[MCD_MEM_SPACE_NAME_LEN];
    mcd_mem_type_et mem_type;
    uint32_t bits_per_mau;
    uint8_t invariance;
    mcd_endian_et endian;
    uint64_t min_addr;
    uint64_t max_addr;
    uint32_t num_mem_blocks;
    mcd_tx_access_opt_et supported_access_options;
    uint32_t core_mode_mask_read;
    uint32_t core_mode_mask_write;
} mcd_memspace_st;

typedef struct mcd_memblock_st {
    uint32_t mem_block_id;
    mcd_char_t mem_block_name[MCD_MEM_BLOCK_NAME_LEN];
    mcd_bool_t has_children;
    uint32_t parent_id;
    uint64_t start_addr;
    uint64_t end_addr;
    mcd_endian_et endian;
    uint32_t supported_au_sizes[MCD_MEM_AUSIZE_NUM];
    mcd_tx_access_opt_et supported_access_options;
    uint32_t core_mode_mask_read;
    uint32_t core_mode_mask_write;
} mcd_memblock_st;

typedef struct mcd_register_group_st {
    uint32_t reg_group_id;
    mcd_char_t reg_group_name[MCD_REG_NAME_LEN];
    uint32_t n_registers;
} mcd_register_group_st;

typedef struct mcd_register_info_st {
    mcd_addr_st addr;
    uint32_t reg_group_id;
    mcd_char_t regname[MCD_REG_NAME_LEN];
    uint32_t regsize;
    uint32_t core_mode_mask_read;
    uint32_t core_mode_mask_write;
    mcd_bool_t has_side_effects_read;
    mcd_bool_t has_side_effects_write;
    mcd_reg_type_et reg_type;
    uint32_t hw_thread_id;
} mcd_register_info_st;

typedef struct mcd_trig_info_st {
    mcd_trig_type_et type;
    mcd_trig_opt_et option;
    mcd_trig_action_et action;
    uint32_t trig_number;
    uint32_t state_number;
    uint32_t counter_number;
    mcd_bool_t sw_breakpoints;
} mcd_trig_info_st;

typedef struct mcd_ctrig_info_st {
    uint32_t ctrig_id;
    mcd_char_t info_str[MCD_INFO_STR_LEN];
} mcd_ctrig_info_st;

/* Every trigger structure starts with these fields. */
typedef struct mcd_trig_complex_core_st {
    uint32_t struct_size;
    mcd_trig_type_et type;
    mcd_trig_opt_et option;
    mcd_trig_action_et action;
    uint32_t action_param;
    mcd_bool_t modified;
    uint32_t state_mask;
    mcd_addr_st addr_start;
    uint64_t addr_range;
    uint64_t data_start;
    uint64_t data_range;
    uint64_t data_mask;
    uint32_t data_size;
    uint32_t hw_thread_id;
    uint64_t sw_thread_id;
    uint32_t core_mode_mask;
} mcd_trig_complex_core_st;

typedef struct mcd_trig_simple_core_st {
    uint32_t struct_size;
    mcd_trig_type_et type;
    mcd_trig_opt_et option;
    mcd_trig_action_et action;
    uint32_t action_param;
    mcd_bool_t modified;
    uint32_t state_mask;
    mcd_addr_st addr_start;
    uint64_t addr_range;
} mcd_trig_simple_core_st;

typedef struct mcd_trig_trig_bus_st {
    uint32_t struct_size;
    mcd_trig_type_et type;
    mcd_trig_opt_et option;
    mcd_trig_action_et action;
    uint32_t action_param;
    mcd_bool_t modified;
    uint32_t state_mask;
    uint32_t trig_bus_value;
    uint32_t trig_bus_mask;
} mcd_trig_trig_bus_st;

typedef struct mcd_trig_counter_st {
    uint32_t struct_size;
    mcd_trig_type_et type;
    mcd_trig_opt_et option;
    mcd_trig_action_et action;
    uint32_t action_param;
    mcd_bool_t modified;
    uint32_t state_mask;
    uint64_t count_value;
    uint64_t reload_value;
} mcd_trig_counter_st;

typedef struct mcd_trig_custom_st {
    uint32_t struct_size;
    mcd_trig_type_et type;
    mcd_trig_opt_et option;
    mcd_trig_action_et action;
    uint32_t action_param;
    mcd_bool_t modified;
    uint32_t state_mask;
    uint32_t ctrig_id;
    uint32_t ctrig_args[4];
} mcd_trig_custom_st;

typedef struct mcd_trig_state_st {
    mcd_bool_t active;
    mcd_bool_t captured;
    mcd_bool_t captured_valid;
    uint64_t count_value;
    mcd_bool_t count_valid;
} mcd_trig_state_st;

typedef struct mcd_trig_set_state_st {
    mcd_bool_t active;
    uint32_t state;
    mcd_bool_t state_valid;
    uint32_t trig_bus;
    mcd_bool_t trig_bus_valid;
    mcd_bool_t trace;
    mcd_bool_t trace_valid;
    mcd_bool_t analysis;
    mcd_bool_t analysis_valid;
} mcd_trig_set_state_st;

typedef struct mcd_tx_st {
    mcd_addr_st addr;
    mcd_tx_access_type_et access_type;
    mcd_tx_access_opt_et options;
    uint8_t access_width;
    uint8_t core_mode;
    uint8_t *data;
    uint32_t num_bytes;
    uint32_t num_bytes_ok;
} mcd_tx_st;

typedef struct mcd_txlist_st {
    mcd_tx_st *tx;
    uint32_t num_tx;
    uint32_t num_tx_ok;
} mcd_txlist_st;

typedef struct mcd_core_state_st {
    mcd_core_state_et state;
    mcd_core_event_et event;
    uint32_t hw_thread_id;
    uint32_t trig_id;
    mcd_char_t stop_str[MCD_INFO_STR_LEN];
    mcd_char_t info_str[MCD_INFO_STR_LEN];
} mcd_core_state_st;

typedef struct mcd_rst_info_st {
    uint32_t class_vector;
    mcd_char_t info_str[MCD_INFO_STR_LEN];
} mcd_rst_info_st;

typedef struct mcd_chl_st {
    uint32_t chl_id;
    mcd_chl_type_et type;
    mcd_chl_attributes_et attributes;
    uint32_t max_msg_len;
    mcd_addr_st msg_buffer_addr;
    uint8_t prio;
} mcd_chl_st;

typedef struct mcd_trace_info_st {
    uint32_t trace_id;
    mcd_char_t trace_name[MCD_INFO_STR_LEN];
    mcd_trace_type_et trace_type;
    mcd_trace_format_et trace_format;
    mcd_trace_mode_et trace_modes;
    mcd_bool_t trace_no_timestamps;
    mcd_bool_t trace_shared;
    mcd_bool_t trace_size_is_bytes;
} mcd_trace_info_st;

typedef struct mcd_trace_state_st {
    mcd_trace_state_et state;
    mcd_trace_mode_et mode;
    mcd_bool_t autoarm;
    mcd_bool_t wraparound;
    uint64_t frames;
    uint64_t count;
    uint64_t size;
    uint64_t trigger_delay;
    uint8_t timestamp_accuracy;
    mcd_bool_t timestamp_is_time;
    uint32_t options;
    mcd_bool_t modified;
    mcd_char_t info_str[MCD_INFO_STR_LEN];
} mcd_trace_state_st;

typedef struct mcd_trace_data_core_st {
    uint64_t timestamp;
    mcd_trace_marker_et marker;
    mcd_trace_cycle_et cycle;
    mcd_addr_st addr;
    uint64_t data;
    uint8_t data_width;
    uint8_t data_mask;
    uint16_t source;
    uint32_t aux_info;
} mcd_trace_data_core_st;

typedef struct mcd_trace_data_event_st {
    uint64_t timestamp;
    mcd_trace_marker_et marker;
    uint32_t data[8];
} mcd_trace_data_event_st;

typedef struct mcd_trace_data_stat_st {
    uint64_t timestamp;
    mcd_trace_marker_et marker;
    uint64_t count[8];
} mcd_trace_data_stat_st;

/*
 * Functions
 */

/* Target initialization */
MCD_API mcd_return_et MCD_API_CALL
mcd_initialize_f(const mcd_api_version_st *version_req,
                 mcd_impl_version_info_st *impl_info);
MCD_API void MCD_API_CALL mcd_exit_f(void);

/* Server connection */
MCD_API mcd_return_et MCD_API_CALL
mcd_qry_servers_f(const mcd_char_t *host, mcd_bool_t running,
                  uint32_t start_index, uint32_t *num_servers,
                  mcd_server_info_st *server_info);
MCD_API mcd_return_et MCD_API_CALL
mcd_open_server_f(const mcd_char_t *system_key,
                  const mcd_char_t *config_string, mcd_server_st **server);
MCD_API mcd_return_et MCD_API_CALL
mcd_close_server_f(const mcd_server_st *server);
MCD_API mcd_return_et MCD_API_CALL
mcd_set_server_config_f(const mcd_server_st *server,
                        const mcd_char_t *config_string);
MCD_API mcd_return_et MCD_API_CALL
mcd_qry_server_config_f(const mcd_server_st *server, uint32_t *max_len,
                        mcd_char_t *config_string);

/* Target system features */
MCD_API mcd_return_et MCD_API_CALL
mcd_qry_systems_f(uint32_t start_index, uint32_t *num_systems,
                  mcd_core_con_info_st *system_con_info);
MCD_API mcd_return_et MCD_API_CALL
mcd_qry_devices_f(const mcd_core_con_info_st *system_con_info,
                  uint32_t start_index, uint32_t *num_devices,
                  mcd_core_con_info_st *device_con_info);
MCD_API mcd_return_et MCD_API_CALL
mcd_qry_cores_f(const mcd_core_con_info_st *connection_info,
                uint32_t start_index, uint32_t *num_cores,
                mcd_core_con_info_st *core_con_info);
MCD_API mcd_return_et MCD_API_CALL
mcd_qry_core_modes_f(const mcd_core_st *core, uint32_t start_index,
                     uint32_t *num_modes,
                     mcd_core_mode_info_st *core_mode_info);

/* Core connection */
MCD_API mcd_return_et MCD_API_CALL
mcd_open_core_f(const mcd_core_con_info_st *core_con_info,
                mcd_core_st **core);
MCD_API mcd_return_et MCD_API_CALL mcd_close_core_f(const mcd_core_st *core);
MCD_API void MCD_API_CALL
mcd_qry_error_info_f(const mcd_core_st *core, mcd_error_info_st *error_info);
MCD_API mcd_return_et MCD_API_CALL
mcd_qry_device_description_f(const mcd_core_st *core, mcd_char_t *url,
                             uint32_t *url_length);
MCD_API mcd_return_et MCD_API_CALL
mcd_qry_max_payload_size_f(const mcd_core_st *core, uint32_t *max_payload);
MCD_API mcd_return_et MCD_API_CALL
mcd_qry_input_handle_f(const mcd_core_st *core, uint32_t *input_handle);

/* Target memory access */
MCD_API mcd_return_et MCD_API_CALL
mcd_qry_mem_spaces_f(const mcd_core_st *core, uint32_t start_index,
                     uint32_t *num_mem_spaces, mcd_memspace_st *mem_spaces);
MCD_API mcd_return_et MCD_API_CALL
mcd_qry_mem_blocks_f(const mcd_core_st *core, uint32_t mem_space_id,
                     uint32_t start_index, uint32_t *num_mem_blocks,
                     mcd_memblock_st *mem_blocks);
MCD_API mcd_return_et MCD_API_CALL
mcd_qry_active_overlays_f(const mcd_core_st *core, uint32_t start_index,
                          uint32_t *num_active_overlays,
                          uint32_t *active_overlays);

/* Target register access */
MCD_API mcd_return_et MCD_API_CALL
mcd_qry_reg_groups_f(const mcd_core_st *core, uint32_t start_index,
                     uint32_t *num_reg_groups,
                     mcd_register_group_st *reg_groups);
MCD_API mcd_return_et MCD_API_CALL
mcd_qry_reg_map_f(const mcd_core_st *core, uint32_t reg_group_id,
                  uint32_t start_index, uint32_t *num_regs,
                  mcd_register_info_st *reg_info);
MCD_API mcd_return_et MCD_API_CALL
mcd_qry_reg_compound_f(const mcd_core_st *core, uint32_t compound_reg_id,
                       uint32_t start_index, uint32_t *num_reg_ids,
                       uint32_t *reg_id_array);

/* Target trigger setup */
MCD_API mcd_return_et MCD_API_CALL
mcd_qry_trig_info_f(const mcd_core_st *core, mcd_trig_info_st *trig_info);
MCD_API mcd_return_et MCD_API_CALL
mcd_qry_ctrigs_f(const mcd_core_st *core, uint32_t start_index,
                 uint32_t *num_ctrigs, mcd_ctrig_info_st *ctrig_info);
MCD_API mcd_return_et MCD_API_CALL
mcd_create_trig_f(const mcd_core_st *core, void *trig, uint32_t *trig_id);
MCD_API mcd_return_et MCD_API_CALL
mcd_qry_trig_f(const mcd_core_st *core, uint32_t trig_id,
               uint32_t max_trig_size, void *trig);
MCD_API mcd_return_et MCD_API_CALL
mcd_remove_trig_f(const mcd_core_st *core, uint32_t trig_id);
MCD_API mcd_return_et MCD_API_CALL
mcd_qry_trig_state_f(const mcd_core_st *core, uint32_t trig_id,
                     mcd_trig_state_st *trig_state);
MCD_API mcd_return_et MCD_API_CALL
mcd_activate_trig_set_f(const mcd_core_st *core);
MCD_API mcd_return_et MCD_API_CALL
mcd_remove_trig_set_f(const mcd_core_st *core);
MCD_API mcd_return_et MCD_API_CALL
mcd_qry_trig_set_f(const mcd_core_st *core, uint32_t start_index,
                   uint32_t *num_trigs, uint32_t *trig_ids);
MCD_API mcd_return_et MCD_API_CALL
mcd_qry_trig_set_state_f(const mcd_core_st *core,
                         mcd_trig_set_state_st *trig_state);

/* Target execution control */
MCD_API mcd_return_et MCD_API_CALL
mcd_execute_txlist_f(const mcd_core_st *core, mcd_txlist_st *txlist);
MCD_API mcd_return_et MCD_API_CALL
mcd_run_f(const mcd_core_st *core, mcd_bool_t global);
MCD_API mcd_return_et MCD_API_CALL
mcd_stop_f(const mcd_core_st *core, mcd_bool_t global);
MCD_API mcd_return_et MCD_API_CALL
mcd_run_until_f(const mcd_core_st *core, mcd_bool_t global,
                mcd_bool_t absolute_time, uint64_t run_until_time);
MCD_API mcd_return_et MCD_API_CALL
mcd_qry_current_time_f(const mcd_core_st *core, uint64_t *current_time);
MCD_API mcd_return_et MCD_API_CALL
mcd_step_f(const mcd_core_st *core, mcd_bool_t global,
           mcd_core_step_type_et step_type, uint32_t n_steps);
MCD_API mcd_return_et MCD_API_CALL
mcd_set_global_f(const mcd_core_st *core, mcd_bool_t enable);
MCD_API mcd_return_et MCD_API_CALL
mcd_qry_state_f(const mcd_core_st *core, mcd_core_state_st *state);
MCD_API mcd_return_et MCD_API_CALL
mcd_execute_command_f(const mcd_core_st *core,
                      const mcd_char_t *command_string,
                      uint32_t result_string_size, mcd_char_t *result_string);

/* Reset control */
MCD_API mcd_return_et MCD_API_CALL
mcd_qry_rst_classes_f(const mcd_core_st *core, uint32_t *rst_class_vector);
MCD_API mcd_return_et MCD_API_CALL
mcd_qry_rst_class_info_f(const mcd_core_st *core, uint8_t rst_class,
                         mcd_rst_info_st *rst_info);
MCD_API mcd_return_et MCD_API_CALL
mcd_rst_f(const mcd_core_st *core, uint32_t rst_class_vector,
          mcd_bool_t rst_and_halt);

/* Communication channels */
MCD_API mcd_return_et MCD_API_CALL
mcd_chl_open_f(const mcd_core_st *core, mcd_chl_st *channel);
MCD_API mcd_return_et MCD_API_CALL
mcd_send_msg_f(const mcd_core_st *core, const mcd_chl_st *channel,
               uint32_t msg_len, const uint8_t *msg);
MCD_API mcd_return_et MCD_API_CALL
mcd_receive_msg_f(const mcd_core_st *core, const mcd_chl_st *channel,
                  uint32_t timeout, uint32_t *msg_len, uint8_t *msg);
MCD_API mcd_return_et MCD_API_CALL
mcd_chl_reset_f(const mcd_core_st *core, const mcd_chl_st *channel);
MCD_API mcd_return_et MCD_API_CALL
mcd_chl_close_f(const mcd_core_st *core, const mcd_chl_st *channel);

/* Trace */
MCD_API mcd_return_et MCD_API_CALL
mcd_qry_traces_f(const mcd_core_st *core, uint32_t start_index,
                 uint32_t *num_traces, mcd_trace_info_st *trace_info);
MCD_API mcd_return_et MCD_API_CALL
mcd_qry_trace_state_f(const mcd_core_st *core, uint32_t trace_id,
                      mcd_trace_state_st *state);
MCD_API mcd_return_et MCD_API_CALL
mcd_set_trace_state_f(const mcd_core_st *core, uint32_t trace_id,
                      mcd_trace_state_st *state);
MCD_API mcd_return_et MCD_API_CALL
mcd_read_trace_f(const mcd_core_st *core, uint32_t trace_id,
                 uint64_t start_index, uint32_t *num_frames,
                 uint32_t trace_data_size, void *trace_data);

#ifdef __cplusplus
}
#endif

#endif /* LIBMCD_MCD_API_H */
