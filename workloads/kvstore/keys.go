package kvstore

import "math"

// KeyOf is the key of rank r (0-based): a bijective mix (murmur3's fmix64)
// of r+1, so keys are distinct, non-zero and spread over the table.
func KeyOf(r uint64) uint64 {
	k := r + 1
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	k ^= k >> 33
	return k
}

// Zipf draws ranks in [0, n) with P(r) proportional to 1/(r+1)^theta, by
// the method of Gray et al., "Quickly generating billion-record synthetic
// databases" (SIGMOD 1994), which YCSB uses with theta = 0.99. math/rand's
// Zipf needs s > 1, so it cannot give YCSB's skew.
type Zipf struct {
	n                        float64
	theta, alpha, zetan, eta float64
	half                     float64 // 1 + 0.5^theta
}

// YCSBTheta is YCSB's Zipfian constant.
const YCSBTheta = 0.99

// NewZipf prepares a generator over n ranks (O(n) once: the zeta sum).
func NewZipf(n int, theta float64) *Zipf {
	zetan := Zeta(n, theta)
	zeta2 := 1 + math.Pow(2, -theta)
	z := &Zipf{n: float64(n), theta: theta, alpha: 1 / (1 - theta), zetan: zetan,
		half: 1 + math.Pow(0.5, theta)}
	z.eta = (1 - math.Pow(2/float64(n), 1-theta)) / (1 - zeta2/zetan)
	return z
}

// zetaExact is how many terms Zeta sums one by one.
const zetaExact = 1 << 16

// Zeta is sum_{i=1..n} i^-theta (0 < theta < 1): the first 65,536 terms
// exactly, the rest by the Euler-Maclaurin formula (integral, end-point and
// first-derivative corrections; the error is below 1e-12 relative), so a
// table of millions of keys does not cost millions of pow() calls.
func Zeta(n int, theta float64) float64 {
	m := min(n, zetaExact)
	z := 0.0
	for i := m; i >= 1; i-- { // small terms first
		z += math.Pow(float64(i), -theta)
	}
	if n == m {
		return z
	}
	a, b := float64(m), float64(n)
	f := func(x float64) float64 { return math.Pow(x, -theta) }
	df := func(x float64) float64 { return -theta * math.Pow(x, -theta-1) }
	integral := (math.Pow(b, 1-theta) - math.Pow(a, 1-theta)) / (1 - theta)
	return z + integral + (f(b)-f(a))/2 + (df(b)-df(a))/12
}

// Rank maps u uniform in [0, 1) to a rank.
func (z *Zipf) Rank(u float64) uint64 {
	uz := u * z.zetan
	if uz < 1 {
		return 0
	}
	if uz < z.half {
		return 1
	}
	r := uint64(z.n * math.Pow(z.eta*u-z.eta+1, z.alpha))
	return min(r, uint64(z.n)-1)
}
