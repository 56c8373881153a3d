/* SPDX-License-Identifier: MIT */
/*
 * timefmt.c: the local-time stamps genv stores and 1.4.3's "N units ago"
 * wording (timefmt.h).
 */
#include "compat.h"
#include "core/timefmt.h"
#include "util/strbuf.h"

#define GENV_TIME_FORMAT "%d/%m/%Y %H:%M:%S"

void
genv_time_format(struct strbuf *out, time_t t)
{
	struct tm tm;
	char buf[64];
	size_t n;

	if (!localtime_r(&t, &tm)) {
		strbuf_addstr(out, "01/01/1970 00:00:00");
		return;
	}
	n = strftime(buf, sizeof(buf), GENV_TIME_FORMAT, &tm);
	strbuf_add(out, buf, n);
}

/* Reads 1..max digits (like Python's strptime fields). */
static int
read_field(const char **p, int max_digits, int *out)
{
	int n = 0, i;

	for (i = 0; i < max_digits && **p >= '0' && **p <= '9'; i++, (*p)++)
		n = n * 10 + (**p - '0');
	if (!i)
		return -1;
	*out = n;
	return 0;
}

static int
is_leap(long long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Parses the stamp into broken-down fields, validating like strptime. */
static int
parse_fields(const char *s, struct tm *tm)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int d, m, y, H, M, S;
	const char *p = s;

	if (read_field(&p, 2, &d) || *p++ != '/' || read_field(&p, 2, &m) ||
	    *p++ != '/' || read_field(&p, 4, &y) || *p++ != ' ' ||
	    read_field(&p, 2, &H) || *p++ != ':' || read_field(&p, 2, &M) ||
	    *p++ != ':' || read_field(&p, 2, &S) || *p)
		return -1;
	if (m < 1 || m > 12 || d < 1 || y < 1 || H > 23 || M > 59 || S > 61 ||
	    d > mdays[m - 1] + (m == 2 && is_leap(y)))
		return -1;
	memset(tm, 0, sizeof(*tm));
	tm->tm_mday = d;
	tm->tm_mon = m - 1;
	tm->tm_year = y - 1900;
	tm->tm_hour = H;
	tm->tm_min = M;
	tm->tm_sec = S;
	tm->tm_isdst = -1;
	return 0;
}

int
genv_time_parse(const char *s, time_t *t)
{
	struct tm tm;
	time_t r;

	if (!s || parse_fields(s, &tm) < 0)
		return -1;
	r = mktime(&tm);
	if (r == (time_t)-1 && !(tm.tm_year == 69 && tm.tm_mon == 11 && tm.tm_mday == 31))
		return -1;
	*t = r;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static long long
days_from_civil(long long y, unsigned m, unsigned d)
{
	long long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

/* Wall-clock seconds of broken-down local time, as naive datetimes count them. */
static long long
civil_seconds(const struct tm *tm)
{
	return days_from_civil(tm->tm_year + 1900LL, (unsigned)tm->tm_mon + 1,
			       (unsigned)tm->tm_mday) * 86400LL +
	       tm->tm_hour * 3600LL + tm->tm_min * 60LL + tm->tm_sec;
}

void
genv_time_since(struct strbuf *out, const char *stamp, time_t now)
{
	struct tm then_tm, now_tm;
	const char *unit = "second";
	long long v;

	if (!stamp || parse_fields(stamp, &then_tm) < 0 || !localtime_r(&now, &now_tm)) {
		strbuf_addstr(out, stamp ? stamp : "");
		return;
	}
	/*
	 * 1.4.3 subtracts naive local datetimes (so DST shifts are not
	 * counted) and truncates toward zero; datetime.now() carries a
	 * fraction of a second, which turns -90 s into -89.
	 */
	v = civil_seconds(&now_tm) - civil_seconds(&then_tm);
	if (v < 0)
		v++;
	if (v >= 60) {
		v /= 60;
		unit = "minute";
		if (v >= 60) {
			v /= 60;
			unit = "hour";
			if (v >= 24) {
				v /= 24;
				unit = "day";
				if (v >= 7) {
					v /= 7;
					unit = "week";
				}
			}
		}
	}
	strbuf_addf(out, "%lld %s%s ago", v, unit, v > 1 ? "s" : "");
}
