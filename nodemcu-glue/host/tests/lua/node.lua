-- node.heap() and the host-only heap helpers; self-checking.
local function check(name, cond) print((cond and "PASS " or "FAIL ") .. name) end
local h0 = node.heap()
check("heap is an integer", math.floor(h0) == h0 and h0 > 0)
local live0 = node.heap_reset_peak()
check("reset returns live bytes", live0 == node.heap_live() or live0 <= node.heap_live())
local big = string.rep("x", 200000)
check("heap shrinks by the string", node.heap() <= h0 - 200000)
check("peak covers the string", node.heap_peak() >= live0 + 200000)
big = nil
collectgarbage()
collectgarbage()
check("heap recovers", node.heap() > h0 - 100000)
check("peak kept after free", node.heap_peak() >= live0 + 200000)
node.heap_reset_peak()
check("peak reset", node.heap_peak() < live0 + 100000)
print("DONE")
