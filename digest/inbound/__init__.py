"""Mail coming back: bounces (DSNs and the odd formats), complaints (ARF), auto-replies, and the listener."""
