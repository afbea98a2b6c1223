"""float32 -> float16 throughout for an exported ONNX graph (initializers, inputs, outputs,
intermediates, Cast targets, constants), shared by the test fixtures and bench:embed's export.
Debian's python3-onnx provides `onnx` (npm run setup installs it)."""
import numpy as np


def convert_to_float16(src, dst):
    try:
        import onnx
        from onnx import TensorProto, numpy_helper
    except ImportError as error:
        raise SystemExit(f"cnn_fp16_graph needs the onnx Python package: apt-get install python3-onnx (npm run setup installs it): {error}")
    model = onnx.load(src)
    graph = model.graph
    for i, init in enumerate(graph.initializer):
        if init.data_type == TensorProto.FLOAT:
            graph.initializer[i].CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16), init.name))
    for value in list(graph.input) + list(graph.output) + list(graph.value_info):
        if value.type.tensor_type.elem_type == TensorProto.FLOAT:
            value.type.tensor_type.elem_type = TensorProto.FLOAT16
    for node in graph.node:
        for attr in node.attribute:
            if node.op_type == "Cast" and attr.name == "to" and attr.i == TensorProto.FLOAT:
                attr.i = TensorProto.FLOAT16
            if attr.name == "value" and attr.t.data_type == TensorProto.FLOAT:
                attr.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(attr.t).astype(np.float16)))
    onnx.checker.check_model(model)
    onnx.save(model, dst)
