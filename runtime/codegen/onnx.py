"""`gradhopper export --onnx`: a graph's forward pass as an ONNX model, with its weights.

The model is the function from the data input to one prediction: the value the first node of
part loss or accuracy (in the plan's order) reads on its first input, or the output port
--output names. The data input is found by following first inputs back from the prediction to a
value the forward pass does not compute: a static one (the test set after splitting), a batch,
or a state node (Mazur's fixed inputs). So the model takes the features as they reach the first
layer, after the graph's own normalising. Every other value the path reads is a constant of the
model: a state node's (the weights) from the --state file, else its initial value, and a static
value as the runtime computed it. Each node on the path declares its operators (NodeType.onnx,
plain data); one that declares none is refused by name. Float64 throughout (ONNX DOUBLE), opset
OPSET (IR version IR_VERSION), the batch dimension of any size. The onnx package is imported only here, on first use.
"""
from __future__ import annotations

import numpy as np

from .source import context
from .. import statefile
from ..errors import GradhopperError
from ..executor import Executor
from ..graph import Endpoint
from ..planner import Call, Plan

OPSET = 17
IR_VERSION = 8  # the IR of opset 17: what runtimes a few years old still read
PREDICTION_PARTS = ("loss", "accuracy")


def model(plan: Plan, state: dict | None = None, output: str | None = None, *,
          state_file=None):
    """The checked onnx.ModelProto; raises GradhopperError (one line, naming the node, and
    `state_file` for a bad state) for a path that cannot be written, a bad state or --output."""
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        raise GradhopperError("ONNX export needs the onnx package: pip install "
                              "'gradhopper[onnx]'") from None
    target = _target(plan, output)
    data = _data_input(plan, target)
    path = _path(plan, target, data)
    ex = Executor(plan, cache=None)
    try:
        weights = _weights(ex, path, state, data)
    except GradhopperError as exc:
        raise exc.in_file(state_file) if state_file is not None else exc
    batches = ex.deal()
    probe = ex.trial(batches[0] if batches else ())
    inits: dict[str, object] = {}

    def tensor(src: Endpoint) -> str:
        if src == data or src.node in path:
            return str(src)
        name = str(src)
        if name not in inits:
            call = plan.calls[src.node]
            value = weights[src.node] if call.role == "state" else probe[plan.slots[src]]
            inits[name] = numpy_helper.from_array(_double(value, src), name)
        return name

    nodes = []
    for node_id in plan.order:
        if node_id in path:
            nodes += [helper.make_node(op, ins, outs, name=f"{node_id}/{i}", **attrs)
                      for i, (op, ins, outs, attrs) in enumerate(_ops(plan, path[node_id],
                                                                     tensor))]
    x, y = _double(probe[plan.slots[data]], data), _double(probe[plan.slots[target]], target)
    graph = helper.make_graph(
        nodes, plan.graph.name or "gradhopper",
        [helper.make_tensor_value_info(str(data), TensorProto.DOUBLE, ["batch", *x.shape[1:]])],
        [helper.make_tensor_value_info(str(target), TensorProto.DOUBLE,
                                       ["batch", *y.shape[1:]])],
        list(inits.values()))
    proto = helper.make_model(graph, producer_name="gradhopper", ir_version=IR_VERSION,
                              opset_imports=[helper.make_opsetid("", OPSET)])
    try:
        onnx.checker.check_model(proto, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise GradhopperError(f"the ONNX model does not check: {first}") from None
    return proto


def save(plan: Plan, path, state_file=None, output: str | None = None) -> None:
    """Write the model to `path` atomically, with the weights of `state_file` if given."""
    from .. import atomicwrite

    state = statefile.load(state_file) if state_file is not None else None
    proto = model(plan, state, output, state_file=state_file)
    atomicwrite.write(path, lambda fh: fh.write(proto.SerializeToString()))


def _target(plan: Plan, output: str | None) -> Endpoint:
    """The prediction: --output's port, else the first loss's or accuracy's first input."""
    if output is not None:
        end = Endpoint.parse(output)
        if end not in plan.slots:
            raise GradhopperError(f"--output {output}: no such output port",
                                  node=end.node if end.node in plan.calls else None)
        return end
    for node_id in plan.order:
        call = plan.calls[node_id]
        if call.type.part in PREDICTION_PARTS and call.sources and call.sources[0]:
            return call.sources[0]
    raise GradhopperError("no loss or accuracy node reads a prediction; name the port to "
                          "export with --output NODE.PORT")


def _computed(plan: Plan, call: Call) -> bool:
    """A node the forward pass computes (else the path starts, or reads a constant, there)."""
    return call.role not in ("state", "batches") and plan.rate[call.node] != "static"


def _data_input(plan: Plan, target: Endpoint) -> Endpoint:
    call = plan.calls[target.node]
    if not _computed(plan, call):
        raise GradhopperError(f"{target} is not computed from data: name an output of the "
                              f"forward pass", node=target.node)
    while _computed(plan, call):
        src = call.sources[0] if call.sources else None
        if src is None:
            raise GradhopperError("its first input is not wired: the forward pass has no data "
                                  "input", node=call.node)
        call = plan.calls[src.node]
    return src


def _path(plan: Plan, target: Endpoint, data: Endpoint) -> dict[str, Call]:
    """The nodes between the data input and the prediction, each with an ONNX mapping."""
    path: dict[str, Call] = {}
    todo = [target.node]
    while todo:
        call = plan.calls[todo.pop()]
        if call.node in path:
            continue
        if call.type.onnx is None:
            raise GradhopperError(f"cannot export to ONNX: {call.type.identifier} has no ONNX "
                                  f"mapping", node=call.node)
        path[call.node] = call
        for src in call.sources:
            if src is None or src == data:
                continue
            source = plan.calls[src.node]
            if source.role == "batches":
                raise GradhopperError(f"the forward pass reads {src} besides its data input "
                                      f"{data}; an ONNX model here takes one", node=call.node)
            if _computed(plan, source):
                todo.append(src.node)
    return path


def _weights(ex: Executor, path: dict[str, Call], state: dict | None, data: Endpoint) -> dict:
    """Each state node's value: from `state` (optimiser keys NODE/... ignored), else initial."""
    plan = ex.plan
    if state is None:
        ex.prepare()
        return ex.state()
    nodes = {key: value for key, value in state.items() if "/" not in key}
    ex.load_state(nodes)  # checks each key and shape, one line naming the node
    read = {src.node for call in path.values() for src in call.sources
            if src is not None and src != data and plan.calls[src.node].role == "state"}
    missing = sorted(read - set(nodes))
    if missing:
        raise GradhopperError(f"the state has no {missing[0]!r}, a weight of the forward pass",
                              node=missing[0])
    return ex.state()


def _ops(plan: Plan, call: Call, tensor) -> list:
    """The node's declared operators with ONNX tensor names: inputs by their wires, outputs as
    NODE.PORT, the node's own values between its operators as NODE/NAME."""
    ops = call.type.onnx(context(plan, call))
    if ops is None:
        raise GradhopperError(f"cannot export to ONNX: {call.type.identifier} has no ONNX "
                              f"mapping for these parameters", node=call.node)
    inputs = dict(zip([p.name for p in call.type.inputs if not p.delayed], call.sources))
    outputs = {p.name for p in call.type.outputs}

    def name(port: str) -> str:
        if port in inputs:
            if inputs[port] is None:
                raise GradhopperError(f"its ONNX mapping reads the unconnected input {port}",
                                      node=call.node, port=port)
            return tensor(inputs[port])
        return f"{call.node}.{port}" if port in outputs else f"{call.node}/{port}"
    return [(op, [name(p) for p in ins], [name(p) for p in outs], dict(attrs))
            for op, ins, outs, attrs in ops]


def _double(value, where: Endpoint) -> np.ndarray:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.ndarray,
                                                                     np.number)):
        raise GradhopperError(f"{where} holds {type(value).__name__}, not numbers an ONNX "
                              f"model can take", node=where.node, port=where.port)
    value = np.asarray(value)
    if value.dtype.kind not in "iuf":
        raise GradhopperError(f"{where} holds {value.dtype} values, not numbers",
                              node=where.node, port=where.port)
    return value.astype(np.float64)
