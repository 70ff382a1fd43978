// The training assembly: everything that needs TorchSharp. Fitted transformers live in EmotionML and run on ONNX Runtime.
