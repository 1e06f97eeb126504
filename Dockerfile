FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput
EXPOSE 8000
# uvicorn, believing X-Forwarded-For only from the proxies in FORWARDED_ALLOW_IPS (none by default).
CMD ["python", "manage.py", "serve", "--host", "0.0.0.0", "--port", "8000"]
