using EmotionML.FaceGeometry;
using Microsoft.ML.Data;

namespace Microsoft.ML;

public static partial class EmotionCatalog
{
    /// <summary>
    /// Finds 68 landmarks on every aligned face crop and writes per-frame expression measures (mouth opening, brow raise,
    /// eye aperture…, see <see cref="FaceGeometryMeasures.Names"/>), normalised by the distance between the eyes; frames
    /// without a face are zero. Reads the face alignment stage's <c>FaceCrops</c> and <c>FaceFound</c>.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">The options; null for the defaults. Copied.</param>
    /// <example>
    /// <code>
    /// var pipeline = mlContext.Transforms.LoadVideo()
    ///     .Append(mlContext.Transforms.AlignFaces())
    ///     .Append(mlContext.Transforms.ExtractFaceGeometry());   // "FaceGeometry": [MaxFrames, 11]
    /// </code>
    /// </example>
    public static FaceGeometryEstimator ExtractFaceGeometry(this TransformsCatalog catalog, FaceGeometryOptions? options = null)
        => new(CatalogUtils.GetEnvironment(catalog ?? throw new ArgumentNullException(nameof(catalog))), options ?? new FaceGeometryOptions());
}
