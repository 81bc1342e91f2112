/* SPDX-License-Identifier: MIT */
/*
 * The MCD API 1.1 structure layout on LP64 Linux (x86-64 and the other
 * 64-bit Linux ABIs with natural alignment) and on 64-bit Windows
 * (LLP64, where mcd_bool_t is 32 bits), as a list of
 * MCD_LAYOUT_SIZE(type, size) and MCD_LAYOUT_OFF(type, field, offset)
 * entries for the includer to expand: mcd-layout-check.c turns them into
 * compile-time checks, the test into run-time ones.  The sizes and
 * offsets that differ between the two are MCD_LAYOUT_ABI(linux, win64).
 *
 * libmcd is MIT licensed, so that proprietary debuggers may load it.
 */

#ifndef LIBMCD_MCD_LAYOUT_CHECK_H
#define LIBMCD_MCD_LAYOUT_CHECK_H

/*
 * The ABI of this build, if it is one of the two: MCD_LAYOUT_HOST is
 * defined then, and MCD_LAYOUT_BOOL_SIZE is the size of mcd_bool_t.
 */
#if defined(_WIN64)
#define MCD_LAYOUT_HOST "64-bit Windows"
#define MCD_LAYOUT_ABI(linux_lp64, win64) (win64)
#define MCD_LAYOUT_BOOL_SIZE 4
#elif defined(__linux__) && (defined(__x86_64__) || defined(__LP64__))
#define MCD_LAYOUT_HOST "LP64 Linux"
#define MCD_LAYOUT_ABI(linux_lp64, win64) (linux_lp64)
#define MCD_LAYOUT_BOOL_SIZE 1
#endif

#define MCD_LAYOUT_LIST(S, O) \
    S(mcd_api_version_st, 36) \
    O(mcd_api_version_st, v_api_major, 0) \
    O(mcd_api_version_st, v_api_minor, 2) \
    O(mcd_api_version_st, author, 4) \
    S(mcd_impl_version_info_st, 90) \
    O(mcd_impl_version_info_st, v_api, 0) \
    O(mcd_impl_version_info_st, v_imp_major, 36) \
    O(mcd_impl_version_info_st, v_imp_minor, 38) \
    O(mcd_impl_version_info_st, v_imp_build, 40) \
    O(mcd_impl_version_info_st, vendor, 42) \
    O(mcd_impl_version_info_st, date, 74) \
    S(mcd_error_info_st, 268) \
    O(mcd_error_info_st, return_status, 0) \
    O(mcd_error_info_st, error_code, 4) \
    O(mcd_error_info_st, error_events, 8) \
    O(mcd_error_info_st, error_str, 12) \
    S(mcd_server_info_st, 192) \
    O(mcd_server_info_st, server, 0) \
    O(mcd_server_info_st, system_instance, 64) \
    O(mcd_server_info_st, acc_hw, 128) \
    S(mcd_server_st, 24) \
    O(mcd_server_st, instance, 0) \
    O(mcd_server_st, host, 8) \
    O(mcd_server_st, config_string, 16) \
    S(mcd_core_con_info_st, 596) \
    O(mcd_core_con_info_st, host, 0) \
    O(mcd_core_con_info_st, server_port, 64) \
    O(mcd_core_con_info_st, server_key, 68) \
    O(mcd_core_con_info_st, system_key, 132) \
    O(mcd_core_con_info_st, device_key, 196) \
    O(mcd_core_con_info_st, system, 260) \
    O(mcd_core_con_info_st, system_instance, 324) \
    O(mcd_core_con_info_st, acc_hw, 388) \
    O(mcd_core_con_info_st, device_type, 452) \
    O(mcd_core_con_info_st, device, 456) \
    O(mcd_core_con_info_st, device_id, 520) \
    O(mcd_core_con_info_st, core, 524) \
    O(mcd_core_con_info_st, core_type, 588) \
    O(mcd_core_con_info_st, core_id, 592) \
    S(mcd_core_st, 16) \
    O(mcd_core_st, instance, 0) \
    O(mcd_core_st, core_con_info, 8) \
    S(mcd_core_mode_info_st, 33) \
    O(mcd_core_mode_info_st, core_mode, 0) \
    O(mcd_core_mode_info_st, name, 1) \
    S(mcd_addr_st, 24) \
    O(mcd_addr_st, address, 0) \
    O(mcd_addr_st, mem_space_id, 8) \
    O(mcd_addr_st, addr_space_id, 12) \
    O(mcd_addr_st, addr_space_type, 16) \
    S(mcd_memspace_st, 88) \
    O(mcd_memspace_st, mem_space_id, 0) \
    O(mcd_memspace_st, mem_space_name, 4) \
    O(mcd_memspace_st, mem_type, 36) \
    O(mcd_memspace_st, bits_per_mau, 40) \
    O(mcd_memspace_st, invariance, 44) \
    O(mcd_memspace_st, endian, 48) \
    O(mcd_memspace_st, min_addr, 56) \
    O(mcd_memspace_st, max_addr, 64) \
    O(mcd_memspace_st, num_mem_blocks, 72) \
    O(mcd_memspace_st, supported_access_options, 76) \
    O(mcd_memspace_st, core_mode_mask_read, 80) \
    O(mcd_memspace_st, core_mode_mask_write, 84) \
    S(mcd_memblock_st, 112) \
    O(mcd_memblock_st, mem_block_id, 0) \
    O(mcd_memblock_st, mem_block_name, 4) \
    O(mcd_memblock_st, has_children, 36) \
    O(mcd_memblock_st, parent_id, 40) \
    O(mcd_memblock_st, start_addr, 48) \
    O(mcd_memblock_st, end_addr, 56) \
    O(mcd_memblock_st, endian, 64) \
    O(mcd_memblock_st, supported_au_sizes, 68) \
    O(mcd_memblock_st, supported_access_options, 100) \
    O(mcd_memblock_st, core_mode_mask_read, 104) \
    O(mcd_memblock_st, core_mode_mask_write, 108) \
    S(mcd_register_group_st, 40) \
    O(mcd_register_group_st, reg_group_id, 0) \
    O(mcd_register_group_st, reg_group_name, 4) \
    O(mcd_register_group_st, n_registers, 36) \
    S(mcd_register_info_st, 88) \
    O(mcd_register_info_st, addr, 0) \
    O(mcd_register_info_st, reg_group_id, 24) \
    O(mcd_register_info_st, regname, 28) \
    O(mcd_register_info_st, regsize, 60) \
    O(mcd_register_info_st, core_mode_mask_read, 64) \
    O(mcd_register_info_st, core_mode_mask_write, 68) \
    O(mcd_register_info_st, has_side_effects_read, 72) \
    O(mcd_register_info_st, has_side_effects_write, MCD_LAYOUT_ABI(73, 76)) \
    O(mcd_register_info_st, reg_type, MCD_LAYOUT_ABI(76, 80)) \
    O(mcd_register_info_st, hw_thread_id, MCD_LAYOUT_ABI(80, 84)) \
    S(mcd_trig_info_st, 28) \
    O(mcd_trig_info_st, type, 0) \
    O(mcd_trig_info_st, option, 4) \
    O(mcd_trig_info_st, action, 8) \
    O(mcd_trig_info_st, trig_number, 12) \
    O(mcd_trig_info_st, state_number, 16) \
    O(mcd_trig_info_st, counter_number, 20) \
    O(mcd_trig_info_st, sw_breakpoints, 24) \
    S(mcd_ctrig_info_st, 260) \
    O(mcd_ctrig_info_st, ctrig_id, 0) \
    O(mcd_ctrig_info_st, info_str, 4) \
    S(mcd_trig_simple_core_st, 64) \
    O(mcd_trig_simple_core_st, struct_size, 0) \
    O(mcd_trig_simple_core_st, type, 4) \
    O(mcd_trig_simple_core_st, option, 8) \
    O(mcd_trig_simple_core_st, action, 12) \
    O(mcd_trig_simple_core_st, action_param, 16) \
    O(mcd_trig_simple_core_st, modified, 20) \
    O(mcd_trig_simple_core_st, state_mask, 24) \
    O(mcd_trig_simple_core_st, addr_start, 32) \
    O(mcd_trig_simple_core_st, addr_range, 56) \
    S(mcd_trig_complex_core_st, 112) \
    O(mcd_trig_complex_core_st, struct_size, 0) \
    O(mcd_trig_complex_core_st, type, 4) \
    O(mcd_trig_complex_core_st, option, 8) \
    O(mcd_trig_complex_core_st, action, 12) \
    O(mcd_trig_complex_core_st, action_param, 16) \
    O(mcd_trig_complex_core_st, modified, 20) \
    O(mcd_trig_complex_core_st, state_mask, 24) \
    O(mcd_trig_complex_core_st, addr_start, 32) \
    O(mcd_trig_complex_core_st, addr_range, 56) \
    O(mcd_trig_complex_core_st, data_start, 64) \
    O(mcd_trig_complex_core_st, data_range, 72) \
    O(mcd_trig_complex_core_st, data_mask, 80) \
    O(mcd_trig_complex_core_st, data_size, 88) \
    O(mcd_trig_complex_core_st, hw_thread_id, 92) \
    O(mcd_trig_complex_core_st, sw_thread_id, 96) \
    O(mcd_trig_complex_core_st, core_mode_mask, 104) \
    S(mcd_trig_trig_bus_st, 36) \
    O(mcd_trig_trig_bus_st, struct_size, 0) \
    O(mcd_trig_trig_bus_st, modified, 20) \
    O(mcd_trig_trig_bus_st, state_mask, 24) \
    O(mcd_trig_trig_bus_st, trig_bus_value, 28) \
    O(mcd_trig_trig_bus_st, trig_bus_mask, 32) \
    S(mcd_trig_counter_st, 48) \
    O(mcd_trig_counter_st, struct_size, 0) \
    O(mcd_trig_counter_st, modified, 20) \
    O(mcd_trig_counter_st, state_mask, 24) \
    O(mcd_trig_counter_st, count_value, 32) \
    O(mcd_trig_counter_st, reload_value, 40) \
    S(mcd_trig_custom_st, 48) \
    O(mcd_trig_custom_st, struct_size, 0) \
    O(mcd_trig_custom_st, modified, 20) \
    O(mcd_trig_custom_st, state_mask, 24) \
    O(mcd_trig_custom_st, ctrig_id, 28) \
    O(mcd_trig_custom_st, ctrig_args, 32) \
    S(mcd_trig_state_st, MCD_LAYOUT_ABI(24, 32)) \
    O(mcd_trig_state_st, active, 0) \
    O(mcd_trig_state_st, captured, MCD_LAYOUT_ABI(1, 4)) \
    O(mcd_trig_state_st, captured_valid, MCD_LAYOUT_ABI(2, 8)) \
    O(mcd_trig_state_st, count_value, MCD_LAYOUT_ABI(8, 16)) \
    O(mcd_trig_state_st, count_valid, MCD_LAYOUT_ABI(16, 24)) \
    S(mcd_trig_set_state_st, MCD_LAYOUT_ABI(24, 36)) \
    O(mcd_trig_set_state_st, active, 0) \
    O(mcd_trig_set_state_st, state, 4) \
    O(mcd_trig_set_state_st, state_valid, 8) \
    O(mcd_trig_set_state_st, trig_bus, 12) \
    O(mcd_trig_set_state_st, trig_bus_valid, 16) \
    O(mcd_trig_set_state_st, trace, MCD_LAYOUT_ABI(17, 20)) \
    O(mcd_trig_set_state_st, trace_valid, MCD_LAYOUT_ABI(18, 24)) \
    O(mcd_trig_set_state_st, analysis, MCD_LAYOUT_ABI(19, 28)) \
    O(mcd_trig_set_state_st, analysis_valid, MCD_LAYOUT_ABI(20, 32)) \
    S(mcd_tx_st, 56) \
    O(mcd_tx_st, addr, 0) \
    O(mcd_tx_st, access_type, 24) \
    O(mcd_tx_st, options, 28) \
    O(mcd_tx_st, access_width, 32) \
    O(mcd_tx_st, core_mode, 33) \
    O(mcd_tx_st, data, 40) \
    O(mcd_tx_st, num_bytes, 48) \
    O(mcd_tx_st, num_bytes_ok, 52) \
    S(mcd_txlist_st, 16) \
    O(mcd_txlist_st, tx, 0) \
    O(mcd_txlist_st, num_tx, 8) \
    O(mcd_txlist_st, num_tx_ok, 12) \
    S(mcd_core_state_st, 528) \
    O(mcd_core_state_st, state, 0) \
    O(mcd_core_state_st, event, 4) \
    O(mcd_core_state_st, hw_thread_id, 8) \
    O(mcd_core_state_st, trig_id, 12) \
    O(mcd_core_state_st, stop_str, 16) \
    O(mcd_core_state_st, info_str, 272) \
    S(mcd_rst_info_st, 260) \
    O(mcd_rst_info_st, class_vector, 0) \
    O(mcd_rst_info_st, info_str, 4) \
    S(mcd_chl_st, 48) \
    O(mcd_chl_st, chl_id, 0) \
    O(mcd_chl_st, type, 4) \
    O(mcd_chl_st, attributes, 8) \
    O(mcd_chl_st, max_msg_len, 12) \
    O(mcd_chl_st, msg_buffer_addr, 16) \
    O(mcd_chl_st, prio, 40) \
    S(mcd_trace_info_st, MCD_LAYOUT_ABI(276, 284)) \
    O(mcd_trace_info_st, trace_id, 0) \
    O(mcd_trace_info_st, trace_name, 4) \
    O(mcd_trace_info_st, trace_type, 260) \
    O(mcd_trace_info_st, trace_format, 264) \
    O(mcd_trace_info_st, trace_modes, 268) \
    O(mcd_trace_info_st, trace_no_timestamps, 272) \
    O(mcd_trace_info_st, trace_shared, MCD_LAYOUT_ABI(273, 276)) \
    O(mcd_trace_info_st, trace_size_is_bytes, MCD_LAYOUT_ABI(274, 280)) \
    S(mcd_trace_state_st, 320) \
    O(mcd_trace_state_st, state, 0) \
    O(mcd_trace_state_st, mode, 4) \
    O(mcd_trace_state_st, autoarm, 8) \
    O(mcd_trace_state_st, wraparound, MCD_LAYOUT_ABI(9, 12)) \
    O(mcd_trace_state_st, frames, 16) \
    O(mcd_trace_state_st, count, 24) \
    O(mcd_trace_state_st, size, 32) \
    O(mcd_trace_state_st, trigger_delay, 40) \
    O(mcd_trace_state_st, timestamp_accuracy, 48) \
    O(mcd_trace_state_st, timestamp_is_time, MCD_LAYOUT_ABI(49, 52)) \
    O(mcd_trace_state_st, options, MCD_LAYOUT_ABI(52, 56)) \
    O(mcd_trace_state_st, modified, MCD_LAYOUT_ABI(56, 60)) \
    O(mcd_trace_state_st, info_str, MCD_LAYOUT_ABI(57, 64)) \
    S(mcd_trace_data_core_st, 56) \
    O(mcd_trace_data_core_st, timestamp, 0) \
    O(mcd_trace_data_core_st, marker, 8) \
    O(mcd_trace_data_core_st, cycle, 12) \
    O(mcd_trace_data_core_st, addr, 16) \
    O(mcd_trace_data_core_st, data, 40) \
    O(mcd_trace_data_core_st, data_width, 48) \
    O(mcd_trace_data_core_st, data_mask, 49) \
    O(mcd_trace_data_core_st, source, 50) \
    O(mcd_trace_data_core_st, aux_info, 52) \
    S(mcd_trace_data_event_st, 48) \
    O(mcd_trace_data_event_st, timestamp, 0) \
    O(mcd_trace_data_event_st, marker, 8) \
    O(mcd_trace_data_event_st, data, 12) \
    S(mcd_trace_data_stat_st, 80) \
    O(mcd_trace_data_stat_st, timestamp, 0) \
    O(mcd_trace_data_stat_st, marker, 8) \
    O(mcd_trace_data_stat_st, count, 16)

#endif /* LIBMCD_MCD_LAYOUT_CHECK_H */
