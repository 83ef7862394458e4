// What the startup code calls in the board-support files (not for applications).
#pragma once

#define BOARD_FAULT_EXIT 87

void board_paint_stack(void);
void board_start_counter(void);
void board_systick_handler(void);
