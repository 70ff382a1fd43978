using System.Security.Cryptography;
using System.Text.Json.Serialization;
using EmotionML.Core;
using EmotionML.FaceFeatures;
using EmotionML.Training.Onnx;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Onnx;
using static TorchSharp.torch;

namespace EmotionML.Training.FaceTuning;

/// <summary>Options of <see cref="FaceBackboneTrainer"/>.</summary>
public sealed class FaceBackboneTrainerOptions : ITorchTrainerOptions<FaceBackboneTrainerOptions>
{
    /// <summary>The backbone to fine-tune. Default <see cref="FaceBackboneKind.MobileFaceNet"/>.</summary>
    public FaceBackboneKind Backbone { get; set; } = FaceBackboneKind.MobileFaceNet;

    /// <summary>The backbone's ONNX file; null uses the shipped one (found and sha256-checked as the face-feature stage does).</summary>
    [JsonIgnore]
    public string? ModelPath { get; set; }

    /// <summary>
    /// The last frozen tensor: everything up to it runs once per image with ONNX Runtime and is cached; everything after it
    /// is trained. Null = the backbone's default (MobileFaceNet <c>638</c>: the 7×7×128 map before its last two bottlenecks;
    /// DenseNet-121 <c>1043</c>: the 7×7×512 input of dense block 4).
    /// </summary>
    public string? FreezeThrough { get; set; }

    /// <summary>Train only a new head on the frozen feature (the "as shipped" baseline). Default false.</summary>
    public bool HeadOnly { get; set; }

    /// <summary>Cached views per training image: 1 = the image, 2 = + its mirror, more = + random small rotation/scale/shift copies. Default 4.</summary>
    public int Copies { get; set; } = 4;

    /// <summary>
    /// Train on the first N images of the input only (0 = all). The cache is filled in row order for the whole input, so
    /// a run can use the part that another run has cached so far; with a shuffled input the first N are a random subset.
    /// </summary>
    public int MaxImages { get; set; }

    /// <summary>Seed of the random copies. Default 1.</summary>
    public int CopySeed { get; set; } = 1;

    /// <summary>Dropout before the new head's linear layer. Default 0.3.</summary>
    public double HeadDropout { get; set; } = 0.3;

    /// <summary>Input column: image file paths (text). Default "ImagePath".</summary>
    public string ImagePathColumnName { get; set; } = "ImagePath";

    /// <summary>Where the activation cache lives; null = <c>$EMOTIONML_CACHE</c>, else <c>~/.cache/emotionml</c>. Not saved.</summary>
    [JsonIgnore]
    public string? CacheDirectory { get; set; }

    /// <summary>How the frozen prefix runs on ONNX Runtime (CPU/CUDA, threads).</summary>
    [JsonIgnore]
    public OnnxExecutionOptions Execution { get; set; } = new();

    /// <summary>Optimisation and validation settings (the validation split holds out whole images, all their copies).</summary>
    public TrainerOptions Training { get; set; } = new()
    {
        BatchSize = 128, MaxEpochs = 12, EarlyStoppingPatience = 3, LearningRate = 1e-3, WeightDecay = 1e-4,
        ValidationFraction = 0.1, Schedule = LearningRateSchedule.Cosine,
    };

    /// <summary>Options of the returned face-feature stage (its <see cref="FaceFeatureOptions.Backbone"/> is set to <see cref="Backbone"/>).</summary>
    public FaceFeatureOptions Output { get; set; } = new();

    /// <summary>Progress lines (cache extraction); epochs go to <see cref="TrainerOptions.Progress"/>. Default null.</summary>
    [JsonIgnore]
    public Action<string>? Log { get; set; }

    /// <summary>Called at the end of a fit with the report and the fine-tuned ONNX graph; default null.</summary>
    [JsonIgnore]
    public Action<FaceBackboneTrainingResult>? Trained { get; set; }

    internal FaceBackboneTrainerOptions Clone()
    {
        var c = (FaceBackboneTrainerOptions)MemberwiseClone();
        c.Execution = Execution.Clone();
        c.Training = Training.Clone();
        c.Output = Output.Clone();
        return c;
    }

    internal void Validate()
    {
        Training.Validate();
        ArgumentNullException.ThrowIfNull(Execution, nameof(Execution));
        Execution.Validate();
        FaceBackbone.Of(Backbone);
        if (MaxImages < 0) throw new ArgumentOutOfRangeException(nameof(MaxImages), MaxImages, "MaxImages must be 0 (all) or positive.");
        if (Copies is < 1 or > 16) throw new ArgumentOutOfRangeException(nameof(Copies), Copies, "Copies must be in 1..16.");
        if (HeadDropout is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(HeadDropout), HeadDropout, "HeadDropout must be in [0, 1).");
        if (string.IsNullOrWhiteSpace(ImagePathColumnName)) throw new ArgumentException("ImagePathColumnName must be set.", nameof(ImagePathColumnName));
        if (FreezeThrough is { Length: 0 }) throw new ArgumentException("FreezeThrough must be a tensor name or null.", nameof(FreezeThrough));
    }

    void IStageOptions<FaceBackboneTrainerOptions>.Validate() => Validate();

    FaceBackboneTrainerOptions IStageOptions<FaceBackboneTrainerOptions>.Clone() => Clone();
}

/// <summary>What a fit of <see cref="FaceBackboneTrainer"/> produced besides the face-feature stage.</summary>
/// <param name="Report">Per-epoch losses, best epoch, row counts.</param>
/// <param name="Model">The fine-tuned ONNX graph: the original with trained initializers (plus output <see cref="FaceBackboneTrainer.LogitsOutput"/> when a new head was trained).</param>
/// <param name="LogitsOutput">The graph output holding the 7 emotion logits.</param>
/// <param name="ClassNames">Class names in logit order.</param>
public sealed record FaceBackboneTrainingResult(TrainingReport Report, byte[] Model, string LogitsOutput, IReadOnlyList<string> ClassNames);

/// <summary>
/// Fine-tunes a face backbone on labelled face images (FER2013) on the CPU: the ONNX graph is cut at
/// <see cref="FaceBackboneTrainerOptions.FreezeThrough"/>; the prefix's activations of every image (and its mirrored and
/// randomly transformed copies) are computed once with ONNX Runtime and cached on disk; the rest of the graph is imported
/// into TorchSharp (<see cref="OnnxTorchModule"/>) and trained with a 7-class head, with early stopping on held-out
/// images; the trained weights are written back into the original graph (<see cref="OnnxWriteBack"/>). The fit returns
/// the face-feature stage running the fine-tuned graph (it reads video face crops, not the image rows it was trained on:
/// fit the trainer on its own rather than at the end of a chain over the images). Deeper fine-tuning is the same with an earlier cut, for a GPU
/// (<see cref="TrainerOptions.Device"/>).
/// </summary>
public sealed class FaceBackboneTrainer : EmotionTorchTrainer<FaceFeatureTransformer, FaceBackboneTrainerOptions>
{
    /// <summary>Name of the logits output appended when a new head is trained.</summary>
    public const string LogitsOutput = "emotion_logits";

    internal FaceBackboneTrainer(IHostEnvironment env, FaceBackboneTrainerOptions options) : base(env, nameof(FaceBackboneTrainer), options)
    {
    }

    /// <summary>The default frozen tensor of each backbone.</summary>
    internal static string DefaultCut(FaceBackboneKind kind) => kind switch
    {
        FaceBackboneKind.MobileFaceNet => "638",
        FaceBackboneKind.FerDenseNet121 => "1043",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "only MobileFaceNet and FerDenseNet121 can be fine-tuned"),
    };

    internal static string CacheRoot(string? directory)
    {
        if (directory != null) return directory;
        var env = Environment.GetEnvironmentVariable("EMOTIONML_CACHE");
        return !string.IsNullOrWhiteSpace(env) ? env : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "emotionml");
    }

    private protected override FaceFeatureTransformer FitChecked(IDataView input)
    {
        var o = Options;
        var backbone = FaceBackbone.Of(o.Backbone);
        var (images, classes) = ReadImages(input, o.ImagePathColumnName, o.Training.LabelColumnName);
        var session = Prepare(o, images, "train", Host);
        var result = session.Train(classes);
        var output = o.Output.Clone();
        output.Backbone = o.Backbone;
        var transformer = new FaceFeatureTransformer(Env, output, result.Model, null);
        o.Trained?.Invoke(result);
        return transformer;
    }

    /// <summary>The image paths and labels of the input (label: a key column with the class names as values).</summary>
    internal static (List<FerImage> Images, string[] Classes) ReadImages(IDataView input, string pathColumn, string labelColumn)
    {
        var path = input.Schema.GetColumnOrNull(pathColumn) ?? throw new ArgumentOutOfRangeException(nameof(input), $"Image path column '{pathColumn}' not found.");
        if (path.Type is not TextDataViewType) throw new ArgumentOutOfRangeException(nameof(input), $"Image path column '{pathColumn}' must be text; it is {path.Type}.");
        var label = input.Schema.GetColumnOrNull(labelColumn) ?? throw new ArgumentOutOfRangeException(nameof(input), $"Label column '{labelColumn}' not found.");
        if (label.Type is not KeyDataViewType key) throw new ArgumentOutOfRangeException(nameof(input), $"Label column '{labelColumn}' must be a key (MapValueToKey); it is {label.Type}.");
        VBuffer<ReadOnlyMemory<char>> names = default;
        string[] classes;
        if (label.HasKeyValues()) { label.GetKeyValues(ref names); classes = names.DenseValues().Select(n => n.ToString()).ToArray(); }
        else classes = Enumerable.Range(0, (int)key.Count).Select(i => i.ToString()).ToArray();
        var list = new List<FerImage>();
        using var cursor = input.GetRowCursor([path, label]);
        var pg = cursor.GetGetter<ReadOnlyMemory<char>>(path);
        var lg = cursor.GetGetter<uint>(label);
        ReadOnlyMemory<char> p = default;
        uint l = 0;
        while (cursor.MoveNext())
        {
            pg(ref p);
            lg(ref l);
            if (l == 0 || l > classes.Length) throw new InvalidInputException($"Row {cursor.Position} has a missing or unknown label.");
            list.Add(new FerImage(p.ToString(), (int)l - 1));
        }
        if (list.Count == 0) throw new InvalidInputException("The training data has no rows.");
        return (list, classes);
    }

    /// <summary>The base graph's bytes and the activation cache of these options.</summary>
    internal static (byte[] Bytes, FaceActivationCache Cache) OpenCache(FaceBackboneTrainerOptions o)
    {
        var backbone = FaceBackbone.Of(o.Backbone);
        var bytes = File.ReadAllBytes(backbone.Model.Resolve(o.ModelPath));
        var cut = o.FreezeThrough ?? DefaultCut(o.Backbone);
        return (bytes, new FaceActivationCache(CacheRoot(o.CacheDirectory), backbone, bytes, cut, o.CopySeed, o.Execution));
    }

    /// <summary>
    /// Accuracy of a fine-tuned graph <paramref name="written"/> on copy 0 of <paramref name="images"/>: the frozen prefix's
    /// cached activations (the prefix weights are the base graph's, unchanged by the write-back) through the written graph's
    /// suffix imported into TorchSharp (cut → <paramref name="logitsOutput"/>), which equals ONNX Runtime on the file (tested).
    /// With <paramref name="mirror"/> each image's class is the argmax of the summed probabilities of the image and its mirror
    /// image (copy 1, cached the same way): test-time averaging over the two views. Probabilities: per image the softmax
    /// of the view, or the sum of both views' softmax vectors.
    /// </summary>
    internal static (double Accuracy, int[] Predicted, float[][] Probabilities) EvaluateCached(FaceBackboneTrainerOptions o, byte[] written, string logitsOutput, IReadOnlyList<FerImage> images, string usage, bool mirror = false)
    {
        var (_, cache) = OpenCache(o);
        var tag = ListTag(usage, images);
        // Copy 0 is the image as it is, copy 1 its mirror image (FerCopy): test-time averaging sums the two views' probabilities.
        var views = mirror ? 2 : 1;
        for (var c = 0; c < views; c++) cache.Ensure(images, tag, c, o.Log, o.Training.Cancellation);
        var data = Enumerable.Range(0, views).Select(c => cache.Read(tag, c, images.Count)).ToArray();
        using var suffix = new OnnxTorchModule(ModelProto.Parser.ParseFrom(written).Graph, cache.Cut, logitsOutput);
        suffix.eval();
        var len = cache.RowLength;
        var predicted = new int[images.Count];
        var summed = new float[images.Count][];
        using var _ = no_grad();
        for (var start = 0; start < images.Count; start += 256)
        {
            using var scope = NewDisposeScope();
            var n = Math.Min(256, images.Count - start);
            Tensor? probabilities = null;
            foreach (var view in data)
            {
                var x = new float[n * len];
                for (var i = 0; i < n * len; i++) x[i] = (float)view[(long)start * len + i];
                var viewProbabilities = suffix.forward(tensor(x, [n, .. cache.RowShape!])).softmax(1);
                probabilities = probabilities is null ? viewProbabilities : probabilities + viewProbabilities;
            }
            var am = probabilities!.argmax(1).data<long>().ToArray();
            var p = probabilities.data<float>().ToArray();
            var k = p.Length / n;
            for (var i = 0; i < n; i++)
            {
                predicted[start + i] = (int)am[i];
                summed[start + i] = p.AsSpan(i * k, k).ToArray();
            }
        }
        var correct = images.Select((im, i) => im.Label == predicted[i] ? 1 : 0).Sum();
        return (correct / (double)images.Count, predicted, summed);
    }

    /// <summary>Loads the backbone, cuts the graph, fills the activation cache for the images' copies and imports the trainable part.</summary>
    internal static FaceTuningSession Prepare(FaceBackboneTrainerOptions o, IReadOnlyList<FerImage> images, string usage, IChannelProvider? log)
    {
        var backbone = FaceBackbone.Of(o.Backbone);
        var (bytes, cache) = OpenCache(o);
        Action<string> say = o.Log ?? (log is IHost h ? m => Info(h, m) : static _ => { });
        var tag = ListTag(usage, images);
        for (var c = 0; c < o.Copies; c++) cache.Ensure(images, tag, c, say, o.Training.Cancellation, limit: o.MaxImages);
        var used = o.MaxImages > 0 && o.MaxImages < images.Count ? images.Take(o.MaxImages).ToList() : images;
        return new FaceTuningSession(o, backbone, bytes, cache, used, tag);
    }

    /// <summary>Progress through the MLContext's log (kind Info).</summary>
    private static void Info(IHost host, string message)
    {
        using var channel = host.Start("EmotionML");
        channel.Info(message);
    }

    /// <summary>A cache file tag for a list of images: the usage and a hash of the paths and labels.</summary>
    internal static string ListTag(string usage, IReadOnlyList<FerImage> images)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var i in images) h.AppendData(System.Text.Encoding.UTF8.GetBytes($"{i.Path}|{i.Label}\n"));
        return $"{usage}-{images.Count}-{Convert.ToHexStringLower(h.GetHashAndReset())[..12]}";
    }

    private protected override SchemaShape OutputSchema(SchemaShape inputSchema)
    {
        SchemaChecks.Require(inputSchema, Options.ImagePathColumnName, "image path", SchemaShape.Column.VectorKind.Scalar, TextDataViewType.Instance);
        var result = inputSchema.ToDictionary(x => x.Name);
        var name = Options.Output.OutputColumnName;
        result[name] = new SchemaShape.Column(name, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false);
        return new SchemaShape(result.Values);
    }
}

/// <summary>The cached activations of one image list and the network trained on them.</summary>
internal sealed class FaceTuningSession
{
    private readonly FaceBackboneTrainerOptions _o;
    private readonly FaceBackbone _backbone;
    private readonly byte[] _original;
    private readonly FaceActivationCache _cache;
    private readonly IReadOnlyList<FerImage> _images;
    private readonly string _tag;

    public FaceTuningSession(FaceBackboneTrainerOptions o, FaceBackbone backbone, byte[] original, FaceActivationCache cache, IReadOnlyList<FerImage> images, string tag)
    {
        _o = o;
        _backbone = backbone;
        _original = original;
        _cache = cache;
        _images = images;
        _tag = tag;
    }

    public FaceBackboneNetwork? Network { get; private set; }

    public bool NewHead => _o.HeadOnly || _backbone.LogitsTensor == null;

    public string LogitsName => NewHead ? FaceBackboneTrainer.LogitsOutput : _backbone.LogitsTensor!;

    /// <summary>The trainable part imported from the graph: cut → feature (new head) or cut → the backbone's logits.</summary>
    public OnnxTorchModule ImportSuffix()
    {
        var graph = ModelProto.Parser.ParseFrom(_original).Graph;
        var output = NewHead ? _backbone.FeatureTensor : _backbone.LogitsTensor!;
        return new OnnxTorchModule(graph, _cache.Cut, output, "suffix");
    }

    private Tensor Batch(Half[][] copies, int[] rows, Device device)
    {
        var len = _cache.RowLength;
        var n = _images.Count;
        var data = new float[rows.Length * len];
        for (var i = 0; i < rows.Length; i++)
        {
            var src = copies[rows[i] / n].AsSpan((rows[i] % n) * len, len);
            var dst = data.AsSpan(i * len, len);
            for (var j = 0; j < len; j++) dst[j] = (float)src[j];
        }
        return tensor(data, [rows.Length, .. _cache.RowShape!]).to(device);
    }

    public FaceBackboneTrainingResult Train(string[] classes)
    {
        var o = _o;
        var n = _images.Count;
        var copies = Enumerable.Range(0, o.Copies).Select(c => _cache.Read(_tag, c, n)).ToArray();
        var rows = n * o.Copies;
        var table = new TrainingTable
        {
            Rows = rows,
            Labels = Enumerable.Range(0, rows).Select(r => _images[r % n].Label).ToArray(),
            ClassNames = classes,
            Groups = Enumerable.Range(0, rows).Select(r => (r % n).ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray(),
            Vectors = [],
        };
        TorchSharp.torch.manual_seed(o.Training.Seed);
        var suffix = ImportSuffix();
        TrainingReport report;
        FaceEmotionHead? head = null;
        if (o.HeadOnly)
        {
            foreach (var p in suffix.parameters()) p.requires_grad = false;
            var features = Features(suffix, copies, rows);
            head = new FaceEmotionHead(_backbone.FeatureDim, classes.Length, o.HeadDropout);
            var h = head;
            report = TrainingLoop.Run(h, (r, d) => h.forward(tensor(Gather(features, r), [r.Length, _backbone.FeatureDim]).to(d)), table, o.Training, "face emotion head");
        }
        else
        {
            if (NewHead) head = new FaceEmotionHead(_backbone.FeatureDim, classes.Length, o.HeadDropout);
            var net = new FaceBackboneNetwork(suffix, head);
            report = TrainingLoop.Run(net, (r, d) => net.forward(Batch(copies, r, d)), table, o.Training, "face backbone");
        }
        Network = new FaceBackboneNetwork(suffix, head);
        Network.eval();
        AppendedClassifier? classifier = null;
        if (head != null)
        {
            var (w, b) = head.Folded();
            classifier = new AppendedClassifier(_backbone.FeatureTensor, FaceBackboneTrainer.LogitsOutput, w, b);
        }
        var meta = new Dictionary<string, string>
        {
            [OnnxWriteBack.BaseShaKey] = Convert.ToHexStringLower(SHA256.HashData(_original)),
            [OnnxWriteBack.TrainedOnKey] = $"{n} images, {o.Copies} copies each, frozen through '{_cache.Cut}'{(o.HeadOnly ? ", head only" : "")}, classes {string.Join(" ", classes)}",
        };
        var model = OnnxWriteBack.Write(_original, o.HeadOnly ? [] : [suffix], classifier, meta);
        return new FaceBackboneTrainingResult(report, model, LogitsName, classes);
    }

    private float[][] Features(OnnxTorchModule suffix, Half[][] copies, int rows)
    {
        suffix.eval();
        var result = new float[rows][];
        using var _ = no_grad();
        const int batch = 256;
        for (var start = 0; start < rows; start += batch)
        {
            using var scope = NewDisposeScope();
            var r = Enumerable.Range(start, Math.Min(batch, rows - start)).ToArray();
            var f = suffix.forward(Batch(copies, r, CPU)).reshape(r.Length, -1).contiguous().data<float>().ToArray();
            for (var i = 0; i < r.Length; i++) result[r[i]] = f.AsSpan(i * _backbone.FeatureDim, _backbone.FeatureDim).ToArray();
        }
        return result;
    }

    private static float[] Gather(float[][] rows, int[] index)
    {
        var d = rows[0].Length;
        var data = new float[index.Length * d];
        for (var i = 0; i < index.Length; i++) rows[index[i]].CopyTo(data, i * d);
        return data;
    }

    /// <summary>Accuracy of the trained network on copy 0 of another image list (cached the same way), and the predictions.</summary>
    public (double Accuracy, int[] Predicted) Evaluate(IReadOnlyList<FerImage> images, string usage, string[] classes)
    {
        var net = Network ?? throw new InvalidOperationException("train first");
        var tag = FaceBackboneTrainer.ListTag(usage, images);
        _cache.Ensure(images, tag, 0, _o.Log, _o.Training.Cancellation);
        var data = _cache.Read(tag, 0, images.Count);
        var predicted = new int[images.Count];
        var len = _cache.RowLength;
        using var _ = no_grad();
        net.eval();
        for (var start = 0; start < images.Count; start += 256)
        {
            using var scope = NewDisposeScope();
            var n = Math.Min(256, images.Count - start);
            var x = new float[n * len];
            for (var i = 0; i < n * len; i++) x[i] = (float)data[(long)start * len + i];
            var logits = net.forward(tensor(x, [n, .. _cache.RowShape!]));
            var am = logits.argmax(1).data<long>().ToArray();
            for (var i = 0; i < n; i++) predicted[start + i] = (int)am[i];
        }
        var correct = images.Select((im, i) => im.Label == predicted[i] ? 1 : 0).Sum();
        return (correct / (double)images.Count, predicted);
    }
}
