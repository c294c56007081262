"""`view(pool, start, shape)`: a C-contiguous array of `shape` over `pool` from element `start`,
for the compiled engine's kernels, which keep every array in one flat pool per dtype.

`pool[start:start + size].reshape(shape)` does the same in numba, but its code clamps the slice,
calls a C helper for the strides and checks the size, so LLVM no longer knows the dimensions
written into the kernel as numbers, and compiling takes longer. This view writes the shape and
the strides as they are; the generator guarantees that the view lies inside the pool. It
shares the pool's memory and holds a reference to it, as a slice does. It builds the array with
numba's own helpers (`make_array`, `populate_array`) of the version pyproject.toml pins.
"""
from __future__ import annotations

from numba import types
from numba.core import cgutils
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic
from numba.np.arrayobj import make_array, populate_array


@intrinsic
def view(typingctx, pool, start, shape):
    if not (isinstance(pool, types.Array) and pool.ndim == 1 and pool.layout == "C"
            and isinstance(start, types.Integer) and isinstance(shape, types.BaseTuple)
            and all(isinstance(d, types.Integer) for d in shape)):
        return None
    result = types.Array(pool.dtype, len(shape), "C")

    def codegen(context, builder, sig, args):
        source = make_array(sig.args[0])(context, builder, args[0])
        dims = [context.cast(builder, d, t, types.intp)
                for d, t in zip(cgutils.unpack_tuple(builder, args[2]), sig.args[2])]
        itemsize = context.get_constant(types.intp,
                                        context.get_abi_sizeof(context.get_data_type(pool.dtype)))
        strides, step = [], itemsize
        for d in reversed(dims):
            strides.insert(0, step)
            step = builder.mul(step, d)
        first = context.cast(builder, args[1], sig.args[1], types.intp)
        out = make_array(result)(context, builder)
        populate_array(out, data=builder.gep(source.data, [first]), shape=dims,
                       strides=strides, itemsize=itemsize, meminfo=source.meminfo,
                       parent=source.parent)
        return impl_ret_borrowed(context, builder, result, out._getvalue())
    return result(pool, start, shape), codegen
