"""The Recurrent Attention Model (RAM) of Mnih, Heess, Graves and Kavukcuoglu (NIPS 2014)."""

import keras
from keras import ops

from keras_attn import ops as attn_ops
from keras_attn import _validation
from keras_attn._args import ArgsMixin
from keras_attn.layers import GlimpseNetwork

CORES = ("rnn", "lstm")
POLICIES = ("learned", "random")


@keras.saving.register_keras_serializable(package="keras_attn")
class RecurrentAttentionModel(ArgsMixin, keras.Model):
    """Recurrent Attention Model: a sequence of glimpses chosen by a learned policy.

    At every step ``t = 1..T`` (``T = num_glimpses``) the model looks at the
    image through a retina of ``num_scales`` square patches centred on the
    location ``l_{t-1}`` (``ops.extract_glimpses``), merges what it saw with
    where it saw it (the glimpse network ``g_t``), and updates a recurrent
    core ``h_t = core(g_t, h_{t-1})``. A location network proposes the next
    location, a Gaussian policy ``l_t ~ N(tanh(W_l h_t), location_std^2)``;
    after the last glimpse a classifier reads ``h_T``.

    * **The first glimpse is at the image centre**, ``l_0 = (0, 0)``, for
      every image in training and inference (not a uniformly random point):
      with several scales its coarsest patch shows a wide middle part of the
      image at low resolution, which is what the policy needs to decide
      where to look next.
    * **Training** (``fit`` on TensorFlow, JAX and PyTorch) minimises the
      hybrid loss of the paper, in ``compute_loss``:
      cross-entropy of the logits, plus the squared error of the baseline
      ``b_t`` against the reward (``ops.baseline_loss``), plus the REINFORCE
      term (``ops.reinforce_loss``) with reward ``R = 1`` when the final
      prediction of the sampled trajectory is right, else 0. Locations are
      sampled and cut from the graph (``stop_gradient``); the location and
      baseline networks read ``stop_gradient(h_t)``, so the classifier's
      gradient never reaches them and theirs never reaches the core.
    * **Inference follows the policy mean**: ``l_t = tanh(W_l h_t)``,
      deterministic, and cut from the graph like the sampled locations (a
      loss on the logits never trains the location network).
      ``model(images, trajectories=M)`` instead averages the class
      probabilities of ``M`` sampled trajectories (returned as log
      probabilities).

    ``policy="random"`` keeps the architecture but glimpses at uniformly
    random locations in ``[-1, 1]^2`` after the centre (in training and
    inference) and trains with the cross-entropy only: the baseline that
    shows what the learned policy adds.

    Args:
        num_classes: number of classes.
        num_glimpses: glimpses per image ``T``; defaults to 6.
        patch_size: side ``p`` of the retina's patches in pixels; defaults to 8.
        num_scales: patches per glimpse, each ``scale_factor`` times wider
            than the previous one, all reduced to ``p x p``; defaults to 1.
        scale_factor: see ``num_scales``; defaults to 2.
        location_std: standard deviation of the Gaussian policy, in
            normalised coordinates (the image spans ``[-1, 1]``); defaults
            to 0.15.
        core: ``"rnn"`` (``h_t = relu(W_h h_{t-1} + W_g g_t)``, the paper's)
            or ``"lstm"``; defaults to ``"rnn"``.
        units: size of the core state (and of ``g_t``); defaults to 256.
        glimpse_units: hidden units reading the retina; defaults to 128.
        location_units: hidden units reading the location; defaults to 128.
        policy: ``"learned"`` (default) or ``"random"`` (see above).
        reinforce_weight: weight of the REINFORCE term; defaults to 1.
        seed: seed of the model's ``keras.random.SeedGenerator`` (location
            noise); ``None`` draws one.

    Call arguments:
        images: ``(B, H, W, C)`` images with static ``H, W, C``.
        training: in training mode the locations are sampled and the model
            returns a dict ``{"logits", "locations", "log_probs",
            "baselines"}`` for ``compute_loss``.
        return_glimpses: also return the glimpse locations ``(B, T, 2)``
            (``(B, M, T, 2)`` with ``trajectories=M``).
        trajectories: ``None`` (the deterministic policy mean) or a number
            ``M`` of sampled trajectories whose probabilities are averaged.

    Returns:
        ``(B, num_classes)`` logits, or ``(logits, locations)``.

    Example:

    >>> import numpy as np
    >>> from keras_attn.models import RecurrentAttentionModel
    >>> model = RecurrentAttentionModel(10, num_glimpses=3, patch_size=6, num_scales=2, units=32,
    ...                                 glimpse_units=16, location_units=16, seed=0)
    >>> images = np.random.rand(4, 28, 28, 1).astype("float32")
    >>> logits, locations = model(images, return_glimpses=True)
    >>> tuple(logits.shape), tuple(locations.shape)
    ((4, 10), (4, 3, 2))
    >>> model.compile(optimizer="adam", metrics=["accuracy"])
    >>> history = model.fit(images, np.arange(4), epochs=1, verbose=0)
    """

    def __init__(
        self,
        num_classes,
        num_glimpses=6,
        patch_size=8, num_scales=1, scale_factor=2,
        location_std=0.15,
        core="rnn",
        units=256, glimpse_units=128, location_units=128,
        policy="learned",
        reinforce_weight=1.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self._store_args(
            **_validation.each(
                _validation.positive_int,
                num_classes=num_classes, num_glimpses=num_glimpses, patch_size=patch_size, num_scales=num_scales,
                scale_factor=scale_factor, units=units, glimpse_units=glimpse_units, location_units=location_units,
            ),
            location_std=_validation.positive_float("location_std", location_std),
            core=_validation.one_of("core", core, CORES),
            policy=_validation.one_of("policy", policy, POLICIES),
            reinforce_weight=_validation.non_negative("reinforce_weight", reinforce_weight),
            seed=_validation.seed(seed),
        )
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.glimpse_net = GlimpseNetwork(
            glimpse_units, location_units, units, patch_size, num_scales, scale_factor, name="glimpse_network"
        )
        if core == "rnn":
            self.cell = keras.layers.SimpleRNNCell(units, activation="relu", name="core")
        else:
            self.cell = keras.layers.LSTMCell(units, name="core")
        if policy == "learned":
            self.locator = keras.layers.Dense(2, activation="tanh", name="location")
            self.baseline = keras.layers.Dense(1, name="baseline")
        self.classifier = keras.layers.Dense(num_classes, name="classifier")
        self.reward_tracker = keras.metrics.Mean(name="reward")

    # ------------------------------------------------------------------ build
    def _check_images(self, shape):
        if len(shape) != 4 or any(d is None for d in shape[1:]):
            raise ValueError(f"images must have shape (batch, H, W, C) with static H, W, C; received shape {tuple(shape)}")

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        self._check_images(input_shape)
        self.glimpse_net.build([input_shape, (input_shape[0], 2)])
        self.cell.build((None, self.units))
        if self.policy == "learned":
            self.locator.build((None, self.units))
            self.baseline.build((None, self.units))
        self.classifier.build((None, self.units))
        self.built = True

    # ---------------------------------------------------------------- forward
    def _rollout(self, images, sample):
        """One trajectory per image: logits, locations (B, T, 2), log-probs and baselines (B, T-1)."""
        batch = ops.shape(images)[0]
        dtype = self.compute_dtype
        location = ops.zeros((batch, 2), dtype=dtype)
        states = self.cell.get_initial_state(batch_size=batch)
        locations, log_probs, baselines = [location], [], []
        pyramid = self.glimpse_net.pyramid(images)  # once per image, read by every glimpse
        for step in range(self.num_glimpses):
            output, states = self.cell(self.glimpse_net([images, location], pyramid=pyramid), states)
            states = list(states) if isinstance(states, (list, tuple)) else [states]
            if step == self.num_glimpses - 1:
                break
            if self.policy == "random":
                location = keras.random.uniform((batch, 2), -1.0, 1.0, dtype=dtype, seed=self.seed_generator)
            else:
                hidden = ops.stop_gradient(output)
                mean = self.locator(hidden)
                if sample:
                    noise = keras.random.normal((batch, 2), dtype=mean.dtype, seed=self.seed_generator)
                    sampled = ops.stop_gradient(mean + self.location_std * noise)
                    log_probs.append(attn_ops.gaussian_log_prob(sampled, mean, self.location_std))
                    baselines.append(ops.squeeze(self.baseline(hidden), -1))
                    location = ops.clip(sampled, -1.0, 1.0)
                else:  # the deterministic path: cut from the graph like the sampled one
                    location = ops.stop_gradient(mean)
            locations.append(location)
        logits = self.classifier(output)
        locations = ops.stack(locations, axis=1)
        if log_probs:
            return logits, locations, ops.stack(log_probs, axis=1), ops.stack(baselines, axis=1)
        return logits, locations, None, None

    def call(self, images, training=False, return_glimpses=False, trajectories=None):
        images = ops.convert_to_tensor(images)
        self._check_images(images.shape)
        if training:
            logits, locations, log_probs, baselines = self._rollout(images, sample=True)
            out = {"logits": logits, "locations": locations}
            if log_probs is not None:
                out.update(log_probs=log_probs, baselines=baselines)
            return out
        if trajectories is None:
            logits, locations, _, _ = self._rollout(images, sample=False)
        else:
            if isinstance(trajectories, bool) or not isinstance(trajectories, int) or trajectories < 1:
                raise ValueError(f"trajectories must be None or a positive integer; got {trajectories!r}")
            batch = ops.shape(images)[0]
            tiled = ops.concatenate([images] * trajectories, axis=0)  # trajectory-major
            logits, locations, _, _ = self._rollout(tiled, sample=True)
            probs = ops.reshape(ops.softmax(logits, axis=-1), (trajectories, batch, self.num_classes))
            logits = ops.log(ops.mean(probs, axis=0) + keras.backend.epsilon())
            locations = ops.transpose(ops.reshape(locations, (trajectories, batch, self.num_glimpses, 2)), (1, 0, 2, 3))
        return (logits, locations) if return_glimpses else logits

    # ------------------------------------------------------------------- loss
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Cross-entropy + baseline MSE + REINFORCE (reward 1 for a right final prediction)."""
        parts = y_pred if isinstance(y_pred, dict) else {"logits": y_pred}
        logits = parts["logits"]
        if self._compile_loss is not None:
            loss = self._compile_loss(y, logits, sample_weight)
        else:
            labels = ops.reshape(y, (-1,))
            per_example = keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
            if sample_weight is not None:
                per_example = per_example * ops.reshape(ops.cast(sample_weight, per_example.dtype), (-1,))
            loss = ops.mean(per_example)
        if "log_probs" in parts:
            labels = ops.cast(ops.reshape(y, (-1,)), "int32")
            correct = ops.equal(ops.cast(ops.argmax(logits, axis=-1), "int32"), labels)
            reward = ops.cast(correct, "float32")
            baselines = ops.cast(parts["baselines"], "float32")
            log_probs = ops.cast(parts["log_probs"], "float32")
            loss = ops.cast(loss, "float32")
            loss = loss + attn_ops.baseline_loss(baselines, reward)
            loss = loss + self.reinforce_weight * attn_ops.reinforce_loss(log_probs, reward, baselines)
            self.reward_tracker.update_state(reward)
        for extra in self.losses:
            loss = loss + ops.cast(ops.sum(extra), loss.dtype)
        return loss

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        if isinstance(y_pred, dict):
            y_pred = y_pred["logits"]
        return super().compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_classes)
