using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EmotionML.Training.Fusion;

/// <summary>Intra-modal attention used to pool a variable-size set of features into one vector.</summary>
public enum AttentionKind
{
    /// <summary>Self-attention: α_i = σ(w₀ᵀ f_i + b), f_s = Σ α_i f_i / Σ α_i (output d).</summary>
    Self,
    /// <summary>Relation-attention: self-attention, then β_i = σ(w₁ᵀ [f_i ; f_s] + b), f_r = Σ α_i β_i [f_i ; f_s] / Σ α_i β_i (output 2d).</summary>
    Relation,
    /// <summary>Transformer-attention: γ_i = exp(uᵀ tanh(W₂ f_i + b)), f_t = Σ γ_i f_i / Σ γ_i (output d).</summary>
    Transformer,
}

/// <summary>
/// Attention pooling over a masked set: <c>forward(features [B,N,d], mask [B,N])</c> returns the pooled vector
/// [B, <see cref="OutputDim"/>] and the normalised attention weights [B,N] (they sum to 1 over the real items of a row;
/// padded items, mask 0, get weight exactly 0; a row with no real item pools to zeros with all-zero weights).
/// </summary>
public abstract class AttentionPooling : nn.Module<Tensor, Tensor, (Tensor Pooled, Tensor Weights)>
{
    /// <summary>The lower bound of a normalising sum (keeps an all-padding row finite).</summary>
    public const float Epsilon = 1e-12f;

    /// <summary>Creates the module.</summary>
    protected AttentionPooling(string name, int inputDim) : base(name)
    {
        if (inputDim <= 0) throw new ArgumentOutOfRangeException(nameof(inputDim), "The feature dimension must be positive.");
        InputDim = inputDim;
    }

    /// <summary>The feature dimension d.</summary>
    public int InputDim { get; }

    /// <summary>The pooled vector's dimension.</summary>
    public abstract int OutputDim { get; }

    /// <summary>Which attention this is.</summary>
    public abstract AttentionKind Kind { get; }

    /// <summary>Creates the attention of the given kind.</summary>
    /// <param name="kind">Which attention.</param>
    /// <param name="dim">Feature dimension d.</param>
    /// <param name="dropout">Dropout probability before the scoring layer (training only).</param>
    /// <param name="transformerDim">m, the reduced dimension of transformer-attention.</param>
    public static AttentionPooling Create(AttentionKind kind, int dim, double dropout, int transformerDim) => kind switch
    {
        AttentionKind.Self => new SelfAttention(dim, dropout),
        AttentionKind.Relation => new RelationAttention(dim, dropout),
        AttentionKind.Transformer => new TransformerAttention(dim, transformerDim, dropout),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown attention kind."),
    };

    /// <summary>Checks shapes: features [B,N,d], mask [B,N].</summary>
    protected void CheckInputs(Tensor features, Tensor mask)
    {
        if (features.dim() != 3 || features.shape[2] != InputDim)
            throw new ArgumentException($"{GetType().Name}: features must be [B,N,{InputDim}], got [{string.Join(",", features.shape)}].");
        if (mask.dim() != 2 || mask.shape[0] != features.shape[0] || mask.shape[1] != features.shape[1])
            throw new ArgumentException($"{GetType().Name}: mask must be [{features.shape[0]},{features.shape[1]}], got [{string.Join(",", mask.shape)}].");
    }

    /// <summary>Σ w_i x_i over the set axis: weights [B,N], values [B,N,e] → [B,e].</summary>
    protected static Tensor WeightedSum(Tensor weights, Tensor values) => (weights.unsqueeze(-1) * values).sum(1);

    /// <summary>s / max(Σ s, ε) over the set axis.</summary>
    protected static Tensor Normalise(Tensor s)
    {
        // An explicit Scalar kept alive (and disposed) around the call: an implicit temporary can be finalized by the GC
        // while libtorch still reads it.
        using var eps = Epsilon.ToScalar();
        return s / s.sum(1, keepdim: true).clamp_min(eps);
    }
}

/// <summary>
/// Self-attention (Frame Attention Networks): α_i = σ(w₀ᵀ dropout(f_i) + b) for real items (0 for padding),
/// f_s = Σ α_i f_i / Σ α_i. Output dimension d.
/// </summary>
public sealed class SelfAttention : AttentionPooling
{
    private readonly Dropout dropout;
    private readonly Linear score;

    /// <summary>Creates self-attention over d-dimensional features with dropout <paramref name="dropout"/> before the scoring layer.</summary>
    public SelfAttention(int dim, double dropout = 0.5) : base(nameof(SelfAttention), dim)
    {
        this.dropout = nn.Dropout(dropout);
        score = nn.Linear(dim, 1);
        RegisterComponents();
    }

    /// <summary>The scoring layer (w₀, b): Linear(d → 1).</summary>
    public Linear Score => score;

    /// <inheritdoc/>
    public override int OutputDim => InputDim;

    /// <inheritdoc/>
    public override AttentionKind Kind => AttentionKind.Self;

    /// <summary>The unnormalised α [B,N], zero on padding.</summary>
    public Tensor Alpha(Tensor features, Tensor mask)
        => torch.sigmoid(score.forward(dropout.forward(features)).squeeze(-1)) * mask;

    /// <inheritdoc/>
    public override (Tensor Pooled, Tensor Weights) forward(Tensor features, Tensor mask)
    {
        CheckInputs(features, mask);
        var weights = Normalise(Alpha(features, mask));
        return (WeightedSum(weights, features), weights);
    }
}

/// <summary>
/// Relation-attention: self-attention gives α_i and f_s; then β_i = σ(w₁ᵀ dropout([f_i ; f_s]) + b) and
/// f_r = Σ α_i β_i [f_i ; f_s] / Σ α_i β_i. Output dimension 2d; the weights returned are α_i β_i / Σ α_j β_j.
/// </summary>
public sealed class RelationAttention : AttentionPooling
{
    private readonly SelfAttention self;
    private readonly Dropout dropout;
    private readonly Linear relation;

    /// <summary>Creates relation-attention over d-dimensional features.</summary>
    public RelationAttention(int dim, double dropout = 0.5) : base(nameof(RelationAttention), dim)
    {
        self = new SelfAttention(dim, dropout);
        this.dropout = nn.Dropout(dropout);
        relation = nn.Linear(2 * dim, 1);
        RegisterComponents();
    }

    /// <summary>The inner self-attention (α, f_s).</summary>
    public SelfAttention Self => self;

    /// <summary>The relation scoring layer (w₁, b): Linear(2d → 1); its first d weights apply to f_i, the last d to f_s.</summary>
    public Linear Relation => relation;

    /// <inheritdoc/>
    public override int OutputDim => 2 * InputDim;

    /// <inheritdoc/>
    public override AttentionKind Kind => AttentionKind.Relation;

    /// <inheritdoc/>
    public override (Tensor Pooled, Tensor Weights) forward(Tensor features, Tensor mask)
    {
        CheckInputs(features, mask);
        var alpha = self.Alpha(features, mask);
        var fs = WeightedSum(Normalise(alpha), features);                       // [B,d]
        var pair = cat([features, fs.unsqueeze(1).expand_as(features)], -1);  // [B,N,2d]
        var beta = torch.sigmoid(relation.forward(dropout.forward(pair)).squeeze(-1));
        var weights = Normalise(alpha * beta);
        return (WeightedSum(weights, pair), weights);
    }
}

/// <summary>
/// Transformer-attention: f'_i = W₂ dropout(f_i) + b (W₂: m×d), γ_i = exp(uᵀ tanh(f'_i)), f_t = Σ γ_i f_i / Σ γ_i,
/// computed as a masked softmax (padding scores set to −1e30 before the softmax, weights multiplied by the mask after).
/// Output dimension d.
/// </summary>
public sealed class TransformerAttention : AttentionPooling
{
    /// <summary>The score given to padded items before the softmax.</summary>
    public const float MaskedScore = -1e30f;

    private readonly Dropout dropout;
    private readonly Linear project;
    private readonly Linear context;

    /// <summary>Creates transformer-attention over d-dimensional features with reduced dimension m.</summary>
    public TransformerAttention(int dim, int reducedDim = 64, double dropout = 0.5) : base(nameof(TransformerAttention), dim)
    {
        if (reducedDim <= 0) throw new ArgumentOutOfRangeException(nameof(reducedDim), "m must be positive.");
        ReducedDim = reducedDim;
        this.dropout = nn.Dropout(dropout);
        project = nn.Linear(dim, reducedDim);
        context = nn.Linear(reducedDim, 1, hasBias: false);
        RegisterComponents();
    }

    /// <summary>m, the reduced dimension.</summary>
    public int ReducedDim { get; }

    /// <summary>(W₂, b): Linear(d → m).</summary>
    public Linear Project => project;

    /// <summary>u: Linear(m → 1) without bias.</summary>
    public Linear Context => context;

    /// <inheritdoc/>
    public override int OutputDim => InputDim;

    /// <inheritdoc/>
    public override AttentionKind Kind => AttentionKind.Transformer;

    /// <inheritdoc/>
    public override (Tensor Pooled, Tensor Weights) forward(Tensor features, Tensor mask)
    {
        CheckInputs(features, mask);
        var s = context.forward(tanh(project.forward(dropout.forward(features)))).squeeze(-1);  // [B,N]
        // where() with a 0-dim tensor instead of masked_fill(Scalar): no temporary Scalar whose finalizer could free it
        // while libtorch still reads it (seen once under GC pressure: "Expected false to be true" from Scalar::toFloat).
        using var masked = torch.tensor(MaskedScore, dtype: s.dtype, device: s.device);
        s = torch.where(mask.to_type(ScalarType.Bool), s, masked);
        var weights = torch.softmax(s, 1) * mask;
        return (WeightedSum(weights, features), weights);
    }
}
