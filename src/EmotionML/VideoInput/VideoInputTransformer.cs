using EmotionML.Core;
using EmotionML.VideoInput;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

[assembly: LoadableClass(typeof(VideoInputTransformer), null, typeof(SignatureLoadModel), "EmotionML Video Input", VideoInputTransformer.LoaderSignature)]

namespace EmotionML.VideoInput;

/// <summary>
/// Decodes each clip named by a path column into sampled RGB frames and 16 kHz mono audio (ffmpeg).
/// Created by <see cref="VideoInputEstimator"/> or <c>mlContext.Transforms.LoadVideo(...)</c>.
/// </summary>
public sealed class VideoInputTransformer : EmotionTransformerBase<VideoInputOptions>
{
    internal const string LoaderSignature = "EmotionMLVideoInput";
    internal const string InputRole = "clip path", InputExpected = "a scalar of String (the clip's path)";
    private const string Stage = "video input";

    internal VideoInputTransformer(IHostEnvironment env, VideoInputOptions options) : base(env, nameof(VideoInputTransformer), options)
    {
    }

    // Versions: 0x00010001 first format; 0x00010002 enums by name (reads 0x00010001); 0x00010003 adds OnError,
    // DecodeErrorColumnName, ProcessTimeout and the Max* limits (absent in older zips: the defaults; a 0x00010002 build
    // reads a 0x00010003 zip and ignores them).
    private const uint V3 = 0x00010003;

    private static VersionInfo GetVersionInfo()
        => ModelFormat.Version("EMLVIDIN", V3, ModelFormat.V2, ModelFormat.V1, LoaderSignature, typeof(VideoInputTransformer));

    private static VideoInputTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
        => new(env, ModelFormat.LoadOptions<VideoInputOptions>(ctx, GetVersionInfo(), Stage, o => o.Validate()));

    // *** Binary format ***
    // string: VideoInputOptions as JSON (enums by name)
    private protected override void Save(ModelSaveContext ctx)
    {
        ctx.SetVersionInfo(GetVersionInfo());
        ModelFormat.WriteOptions(ctx, Settings);
    }

    internal static IReadOnlyList<OutputColumn> OutputColumns(VideoInputOptions o)
    {
        var outputs = new List<OutputColumn>();
        if (o.DecodeVideo)
        {
            outputs.Add(new(o.FramesColumnName, new VectorDataViewType(NumberDataViewType.Byte)));
            outputs.Add(new(o.FrameCountColumnName, NumberDataViewType.Int32));
            outputs.Add(new(o.FrameWidthColumnName, NumberDataViewType.Int32));
            outputs.Add(new(o.FrameHeightColumnName, NumberDataViewType.Int32));
            outputs.Add(new(o.FrameTimesColumnName, new VectorDataViewType(NumberDataViewType.Single)));
        }
        if (o.DecodeAudio)
            outputs.Add(new(o.AudioColumnName, new VectorDataViewType(NumberDataViewType.Single)));
        if (o.OnError == DecodeErrorPolicy.Skip)
            outputs.Add(new(o.DecodeErrorColumnName, TextDataViewType.Instance));
        return outputs;
    }

    private protected override BoundMapper Bind(DataViewSchema inputSchema) => new Mapper(this, inputSchema);

    /// <summary>
    /// Decodes one clip outside any pipeline (same code path as the transformer): the headers (in process for MP4/MOV, else one ffprobe run) and one ffmpeg run.
    /// Throws <see cref="MediaFileException"/> whatever <see cref="VideoInputOptions.OnError"/> says.
    /// </summary>
    internal DecodedClip Decode(string path, CancellationToken cancellation = default) => Decode(path, new MediaDecoder(Settings), cancellation);

    internal DecodedClip Decode(string path, MediaDecoder decoder, CancellationToken cancellation = default)
    {
        var o = Settings;
        var full = decoder.CheckFile(path);
        var info = decoder.Probe(path, full, cancellation);
        decoder.CheckLimits(path, info);
        IReadOnlyList<int>? indices = null;
        if (o.DecodeVideo)
        {
            if (!info.HasVideo)
            {
                if (o.MissingVideo == MissingStreamPolicy.Throw) throw new MediaFileException(path, MediaProblem.NoVideo, "set MissingVideo = Empty to accept audio-only clips");
            }
            else
            {
                indices = o.SelectFrames(info.FrameCountEstimate, info.FrameRate);
                if (indices.Count == 0)
                    throw new MediaFileException(path, MediaProblem.UnsupportedFormat, "the video stream states neither a frame count nor a duration (remux it, e.g. ffmpeg -i in -c copy out.mp4)");
            }
        }
        var decodeAudio = o.DecodeAudio && info.HasAudio;
        if (o.DecodeAudio && !info.HasAudio && o.MissingAudio == MissingStreamPolicy.Throw)
            throw new MediaFileException(path, MediaProblem.NoAudio, "set MissingAudio = Empty to accept silent clips");
        var (frames, audio) = decoder.Decode(path, full, info, indices, decodeAudio, cancellation);
        // An audio stream that holds no samples (and states none) is no audio.
        if (decodeAudio && audio.Length == 0 && o.MissingAudio == MissingStreamPolicy.Throw)
            throw new MediaFileException(path, MediaProblem.NoAudio, "the audio stream holds no samples; set MissingAudio = Empty to accept silent clips");
        return new DecodedClip(frames, audio, info);
    }

    /// <summary>Decodes a row's clip under <see cref="VideoInputOptions.OnError"/>: on Skip, a failure gives an empty clip and a logged warning.</summary>
    private DecodedClip DecodeRow(string path, out string error)
    {
        error = "";
        if (Settings.OnError == DecodeErrorPolicy.Throw) return Decode(path);
        try
        {
            return Decode(path);
        }
        catch (MediaFileException e) when (e.Problem != MediaProblem.DecoderUnavailable)
        {
            error = $"{e.Problem}: {e.Message}";
            StageLog.Warning(Host, $"Skipped clip {e.Message} [{e.Problem}]");
            return new DecodedClip(DecodedFrames.None, [], new MediaInfo(false, 0, 0, 0, 0, 0, false, 0, 0, 0));
        }
    }

    internal sealed record DecodedClip(DecodedFrames Frames, float[] Audio, MediaInfo Info);

    private sealed class Mapper : BoundMapper
    {
        private readonly VideoInputTransformer _parent;
        private readonly int _input;

        public Mapper(VideoInputTransformer parent, DataViewSchema schema) : base(schema)
        {
            _parent = parent;
            var o = parent.Settings;
            _input = FindInput(o.InputColumnName, InputRole, t => t is TextDataViewType, InputExpected);
            Outputs = OutputColumns(o);
        }

        public override IReadOnlyList<OutputColumn> Outputs { get; }

        public override IReadOnlyList<int> Dependencies => [_input];

        public override RowState CreateState(DataViewRow input) => new State(this, input);

        private sealed class State : RowState
        {
            private readonly Mapper _m;
            private readonly ValueGetter<ReadOnlyMemory<char>> _path;
            private DecodedClip? _clip;
            private string _error = "";

            public State(Mapper m, DataViewRow input) : base(input)
            {
                _m = m;
                _path = InputGetter<ReadOnlyMemory<char>>(input, m._input);
            }

            protected override void Compute() => _clip = _m._parent.DecodeRow(Getters.ReadText(_path), out _error);

            public override Delegate GetGetter(int outputIndex)
            {
                var name = _m.Outputs[outputIndex].Name;
                var o = _m._parent.Settings;
                if (o.DecodeVideo)
                {
                    if (name == o.FramesColumnName) return Vector(() => (ReadOnlyMemory<byte>)_clip!.Frames.Pixels);
                    if (name == o.FrameCountColumnName) return Scalar(() => _clip!.Frames.Count);
                    if (name == o.FrameWidthColumnName) return Scalar(() => _clip!.Frames.Width);
                    if (name == o.FrameHeightColumnName) return Scalar(() => _clip!.Frames.Height);
                    if (name == o.FrameTimesColumnName) return Vector(() => (ReadOnlyMemory<float>)_clip!.Frames.Times);
                }
                if (o.OnError == DecodeErrorPolicy.Skip && name == o.DecodeErrorColumnName) return Scalar(() => _error.AsMemory());
                return Vector(() => (ReadOnlyMemory<float>)_clip!.Audio);
            }
        }
    }
}
