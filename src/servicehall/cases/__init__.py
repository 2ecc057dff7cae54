"""Cases (办件) from first inquiry to delivery: 首问, 一次性告知, 容缺, 限时办结, 并联审批, 电子监察."""
